package dev.anvil.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The web UI's single sign-on: the OAuth 2.0 authorization code flow with PKCE (RFC 7636) against the
 * OIDC provider of {@link OidcVerifier}. {@link #start} makes the state and code verifier the browser
 * keeps in a short-lived cookie and the address to send it to; {@link #finish} trades the code the
 * provider sends back for an access token, which the caller then checks like any bearer JWT.
 */
public final class OidcLogin {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final OidcVerifier verifier;
    private final String clientId;
    private final Optional<String> clientSecret;
    private final String scopes;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    public OidcLogin(OidcVerifier verifier, String clientId, Optional<String> clientSecret, String scopes) {
        this.verifier = verifier;
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.scopes = scopes;
    }

    /** A sign-in under way: what the browser keeps ({@code state}, {@code verifier}) and where it goes. */
    public record Started(String state, String codeVerifier, URI authorizeAt) {
        /** The cookie value that carries state and verifier to the callback. */
        public String cookieValue() {
            return state + "." + codeVerifier;
        }
    }

    /** Why a sign-in did not complete, in words for the sign-in page. */
    public static final class Failed extends RuntimeException {
        public Failed(String message) {
            super(message);
        }
    }

    public String issuer() {
        return verifier.issuer();
    }

    public Started start(URI redirectUri) {
        OidcVerifier.Discovered provider = verifier.discovered();
        if (provider.authorizationEndpoint().isBlank() || provider.tokenEndpoint().isBlank()) {
            throw new Failed("the provider's discovery document names no authorization_endpoint or token_endpoint");
        }
        String state = random();
        String codeVerifier = random() + random();
        Map<String, String> query = new LinkedHashMap<>();
        query.put("response_type", "code");
        query.put("client_id", clientId);
        query.put("redirect_uri", redirectUri.toString());
        query.put("scope", scopes);
        query.put("state", state);
        query.put("code_challenge", challenge(codeVerifier));
        query.put("code_challenge_method", "S256");
        String sep = provider.authorizationEndpoint().contains("?") ? "&" : "?";
        return new Started(state, codeVerifier, URI.create(provider.authorizationEndpoint() + sep + form(query)));
    }

    /**
     * Checks the provider's answer against the cookie and trades the code for an access token.
     *
     * @param cookie the value {@link Started#cookieValue()} set, or null when the browser sent none
     * @throws Failed naming what went wrong (for the sign-in page)
     */
    public String finish(String cookie, String state, String code, String error, String errorDescription,
            URI redirectUri) {
        if (error != null && !error.isBlank()) {
            throw new Failed("the provider did not sign you in: " + error
                    + (errorDescription == null || errorDescription.isBlank() ? "" : " (" + errorDescription + ")"));
        }
        if (cookie == null || cookie.indexOf('.') < 0) {
            throw new Failed("the sign-in took too long or was started in another browser; start it again");
        }
        String expectedState = cookie.substring(0, cookie.indexOf('.'));
        String codeVerifier = cookie.substring(cookie.indexOf('.') + 1);
        if (state == null || !MessageDigest.isEqual(expectedState.getBytes(StandardCharsets.US_ASCII),
                state.getBytes(StandardCharsets.US_ASCII))) {
            throw new Failed("the sign-in answer does not belong to the sign-in this browser started; start it again");
        }
        if (code == null || code.isBlank()) {
            throw new Failed("the provider sent no authorization code");
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("grant_type", "authorization_code");
        body.put("code", code);
        body.put("redirect_uri", redirectUri.toString());
        body.put("client_id", clientId);
        body.put("code_verifier", codeVerifier);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(verifier.discovered().tokenEndpoint()))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json");
        clientSecret.ifPresent(secret -> request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                (enc(clientId) + ":" + enc(secret)).getBytes(StandardCharsets.UTF_8))));
        HttpResponse<String> response;
        try {
            response = http.send(request.POST(HttpRequest.BodyPublishers.ofString(form(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw verifier.providerDown("its token endpoint could not be reached: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("the sign-in was interrupted");
        }
        JsonNode answer;
        try {
            answer = json.readTree(response.body());
        } catch (IOException e) {
            throw new Failed("the provider's token endpoint answered HTTP " + response.statusCode() + " without JSON");
        }
        if (response.statusCode() != 200) {
            throw new Failed("the provider refused the authorization code: " + answer.path("error").asText("HTTP "
                    + response.statusCode()) + optional(answer.path("error_description").asText("")));
        }
        String token = answer.path("access_token").asText("");
        if (token.isBlank()) {
            throw new Failed("the provider's token endpoint sent no access_token");
        }
        return token;
    }

    private static String optional(String description) {
        return description.isBlank() ? "" : " (" + description + ")";
    }

    private static String challenge(String codeVerifier) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(codeVerifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String random() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String form(Map<String, String> values) {
        return values.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
