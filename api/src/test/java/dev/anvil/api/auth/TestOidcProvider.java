package dev.anvil.api.auth;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.lang.JoseException;

/**
 * A minimal OpenID Connect provider for tests, speaking the parts Anvil uses over real HTTP: the
 * discovery document, the JWKS, and the authorization code flow with PKCE (authorization and token
 * endpoints). It signs tokens with its current RSA key and can rotate to a new one.
 */
public final class TestOidcProvider implements AutoCloseable {
    private static TestOidcProvider shared;

    private final HttpServer server;
    private final String issuer;
    private volatile RsaJsonWebKey key;
    private final AtomicInteger jwksFetches = new AtomicInteger();

    private TestOidcProvider() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + server.getAddress().getPort() + "/realms/ml";
        key = newKey();
        server.createContext("/realms/ml/.well-known/openid-configuration", ex -> send(ex, 200,
                "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/protocol/openid-connect/certs\","
                        + "\"authorization_endpoint\":\"" + issuer + "/protocol/openid-connect/auth\","
                        + "\"token_endpoint\":\"" + issuer + "/protocol/openid-connect/token\"}"));
        server.createContext("/realms/ml/protocol/openid-connect/auth", this::authorize);
        server.createContext("/realms/ml/protocol/openid-connect/token", this::exchange);
        server.createContext("/realms/ml/protocol/openid-connect/certs", ex -> {
            jwksFetches.incrementAndGet();
            send(ex, 200, new JsonWebKeySet(key).toJson());
        });
        server.start();
    }

    /** One provider for the whole test JVM (the application under test is configured with it). */
    public static synchronized TestOidcProvider shared() {
        if (shared == null) {
            try {
                shared = new TestOidcProvider();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the test OIDC provider", e);
            }
        }
        return shared;
    }

    public static TestOidcProvider start() throws IOException {
        return new TestOidcProvider();
    }

    public String issuer() {
        return issuer;
    }

    public int jwksFetches() {
        return jwksFetches.get();
    }

    /** A new signing key with a new key id; tokens signed before keep the old one's kid. */
    public void rotateKey() {
        key = newKey();
    }

    /** A token for {@code user} with Keycloak-style realm roles, audience "anvil", valid for five minutes. */
    public String token(String user, List<String> realmRoles) {
        return token(claims -> {
            claims.setSubject(UUID.nameUUIDFromBytes(user.getBytes(StandardCharsets.UTF_8)).toString());
            claims.setClaim("preferred_username", user);
            claims.setClaim("realm_access", Map.of("roles", realmRoles));
        });
    }

    /** A token with standard claims (issuer, audience "anvil", exp in five minutes) changed by {@code edit}. */
    public String token(Consumer<JwtClaims> edit) {
        return sign(claims(edit), key);
    }

    public JwtClaims claims(Consumer<JwtClaims> edit) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(issuer);
        claims.setAudience("anvil");
        claims.setSubject("subject-1");
        claims.setIssuedAtToNow();
        claims.setExpirationTimeMinutesInTheFuture(5);
        edit.accept(claims);
        return claims;
    }

    public static String sign(JwtClaims claims, RsaJsonWebKey with) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(with.getPrivateKey());
        jws.setKeyIdHeaderValue(with.getKeyId());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RsaJsonWebKey newKey() {
        try {
            RsaJsonWebKey k = RsaJwkGenerator.generateJwk(2048);
            k.setKeyId(UUID.randomUUID().toString());
            k.setUse("sig");
            k.setAlgorithm(AlgorithmIdentifiers.RSA_USING_SHA256);
            return k;
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The web UI's client at this provider. */
    public static final String CLIENT_ID = "anvil-ui";
    public static final String CLIENT_SECRET = "anvil-ui-test-secret";

    private record Grant(String user, List<String> roles, String challenge, String redirectUri) {}

    private final Map<String, Grant> grants = new ConcurrentHashMap<>();
    private volatile String signedInUser;
    private volatile List<String> signedInRoles = List.of();

    /** Who the provider's (skipped) login page signs in next; null makes it deny the request. */
    public void signInAs(String user, List<String> roles) {
        signedInUser = user;
        signedInRoles = roles;
    }

    /** Authorization endpoint: checks the request, then sends the browser back with a one-time code. */
    private void authorize(HttpExchange ex) throws IOException {
        Map<String, String> q = parse(ex.getRequestURI().getRawQuery());
        String redirect = q.get("redirect_uri");
        if (!CLIENT_ID.equals(q.get("client_id")) || redirect == null || !"code".equals(q.get("response_type"))
                || !"S256".equals(q.get("code_challenge_method")) || q.get("code_challenge") == null) {
            send(ex, 400, "{\"error\":\"invalid_request\"}");
            return;
        }
        String back;
        if (signedInUser == null) {
            back = redirect + "?error=access_denied&error_description=" + enc("the user declined") + "&state="
                    + enc(q.get("state"));
        } else {
            String code = UUID.randomUUID().toString();
            grants.put(code, new Grant(signedInUser, signedInRoles, q.get("code_challenge"), redirect));
            back = redirect + "?code=" + enc(code) + "&state=" + enc(q.get("state"));
        }
        ex.getResponseHeaders().set("Location", back);
        ex.sendResponseHeaders(302, -1);
        ex.close();
    }

    /** Token endpoint: client secret (Basic), one-time code, same redirect_uri, PKCE S256. */
    private void exchange(HttpExchange ex) throws IOException {
        Map<String, String> form = parse(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        String basic = "Basic " + Base64.getEncoder().encodeToString(
                (CLIENT_ID + ":" + CLIENT_SECRET).getBytes(StandardCharsets.UTF_8));
        if (!basic.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            send(ex, 401, "{\"error\":\"invalid_client\"}");
            return;
        }
        Grant grant = grants.remove(String.valueOf(form.get("code")));
        if (grant == null || !"authorization_code".equals(form.get("grant_type"))
                || !grant.redirectUri().equals(form.get("redirect_uri"))) {
            send(ex, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"unknown or used code\"}");
            return;
        }
        String verifier = String.valueOf(form.get("code_verifier"));
        String challenge;
        try {
            challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        if (!challenge.equals(grant.challenge())) {
            send(ex, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"PKCE verification failed\"}");
            return;
        }
        // the ID token names the user for the client; the access token carries the realm roles (as Keycloak's do)
        String idToken = token(claims -> {
            claims.setSubject(UUID.nameUUIDFromBytes(grant.user().getBytes(StandardCharsets.UTF_8)).toString());
            claims.setAudience(CLIENT_ID);
            claims.setClaim("preferred_username", grant.user());
        });
        send(ex, 200, "{\"access_token\":\"" + token(grant.user(), grant.roles()) + "\",\"id_token\":\"" + idToken
                + "\",\"token_type\":\"Bearer\",\"expires_in\":300}");
    }

    private static Map<String, String> parse(String query) {
        Map<String, String> values = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return values;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            values.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
        return values;
    }

    private static String enc(String s) {
        return URLEncoder.encode(String.valueOf(s), StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
