package dev.anvil.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.problem.ProblemException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwk.HttpsJwks;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.keys.resolvers.HttpsJwksVerificationKeyResolver;
import org.jose4j.lang.UnresolvableKeyException;

/**
 * Checks bearer JWTs issued by an OpenID Connect provider and turns them into a {@link Caller}.
 *
 * <p>The provider is found through its discovery document ({@code <issuer>/.well-known/openid-configuration}),
 * fetched on first use and again after a failure, never at start-up, so Anvil starts while the provider
 * is down. Signing keys come from the document's {@code jwks_uri} and are fetched again when a token
 * names a key id not seen yet (key rotation). A token must be signed with an asymmetric algorithm by one
 * of those keys, name the configured issuer (and audience, when set) and be within its validity window.
 * Roles are read from a claim (a dotted path reaches into nested claims, e.g. Keycloak's
 * {@code realm_access.roles}); names other than Anvil's roles (after an optional prefix) are ignored.
 */
public final class OidcVerifier {
    /** What the verifier needs from configuration. */
    public record Settings(String issuer, Optional<String> audience, String rolesClaim, Optional<String> rolePrefix,
            String principalClaim, Duration clockSkew) {}

    private static final List<String> ALGORITHMS = List.of(AlgorithmIdentifiers.RSA_USING_SHA256,
            AlgorithmIdentifiers.RSA_USING_SHA384, AlgorithmIdentifiers.RSA_USING_SHA512,
            AlgorithmIdentifiers.RSA_PSS_USING_SHA256, AlgorithmIdentifiers.RSA_PSS_USING_SHA384,
            AlgorithmIdentifiers.RSA_PSS_USING_SHA512, AlgorithmIdentifiers.ECDSA_USING_P256_CURVE_AND_SHA256,
            AlgorithmIdentifiers.ECDSA_USING_P384_CURVE_AND_SHA384,
            AlgorithmIdentifiers.ECDSA_USING_P521_CURVE_AND_SHA512);
    private static final AlgorithmConstraints ASYMMETRIC = new AlgorithmConstraints(
            AlgorithmConstraints.ConstraintType.PERMIT, ALGORITHMS.toArray(String[]::new));

    private final Settings settings;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private volatile Discovered discovered;

    /** What the discovery document says, with the token checker built on its keys. */
    public record Discovered(String authorizationEndpoint, String tokenEndpoint, JwtConsumer consumer) {}

    public OidcVerifier(Settings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    public String issuer() {
        return settings.issuer();
    }

    /** True when {@code token} has the shape of a JWS compact serialisation (API tokens never do). */
    public static boolean looksLikeJwt(String token) {
        return token.startsWith("eyJ") && token.chars().filter(c -> c == '.').count() == 2;
    }

    /**
     * @throws ProblemException 401 naming why the token is refused; 503 when the provider cannot be reached
     */
    public Caller verify(String token) {
        String alg = algorithm(token);
        if (!ALGORITHMS.contains(alg)) {
            throw refused("it is signed with '" + alg + "', not an asymmetric algorithm the provider's keys allow ("
                    + String.join(", ", ALGORITHMS) + ")");
        }
        JwtClaims claims;
        try {
            claims = discovered().consumer().processToClaims(token);
        } catch (InvalidJwtException e) {
            if (causedBy(e, IOException.class)) { // the JWKS could not be fetched
                discovered = null; // rediscover next time: the provider may have moved its keys
                throw providerDown("its signing keys could not be fetched: " + rootMessage(e));
            }
            throw refused(reason(e));
        }
        return new Caller(principal(claims), roles(claims), true);
    }

    /** The JOSE header's alg, read before any key is looked up (so the answer names the real problem). */
    private String algorithm(String token) {
        try {
            String header = new String(Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))),
                    StandardCharsets.UTF_8);
            return json.readTree(header).path("alg").asText("none");
        } catch (IllegalArgumentException | IOException e) {
            throw refused("its header is not base64url-encoded JSON");
        }
    }

    /** The provider's endpoints, fetched on first use and again after a failure. */
    public Discovered discovered() {
        Discovered d = discovered;
        if (d == null) {
            synchronized (this) {
                d = discovered;
                if (d == null) {
                    d = discover();
                    discovered = d;
                }
            }
        }
        return d;
    }

    private Discovered discover() {
        String issuer = settings.issuer();
        URI document = URI.create(issuer.replaceAll("/+$", "") + "/.well-known/openid-configuration");
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(document).timeout(Duration.ofSeconds(10))
                    .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw providerDown("its discovery document " + document + " could not be fetched: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw providerDown("fetching " + document + " was interrupted");
        }
        if (response.statusCode() != 200) {
            throw providerDown(document + " answered HTTP " + response.statusCode());
        }
        JsonNode body;
        try {
            body = json.readTree(response.body());
        } catch (IOException e) {
            throw providerDown(document + " is not JSON: " + e.getMessage());
        }
        String named = body.path("issuer").asText("");
        if (!named.equals(issuer)) {
            throw providerDown(document + " names the issuer '" + named + "', not the configured '" + issuer
                    + "' (anvil.auth.oidc.issuer must be the provider's issuer exactly)");
        }
        String jwks = body.path("jwks_uri").asText("");
        if (jwks.isBlank()) {
            throw providerDown(document + " names no jwks_uri");
        }
        return new Discovered(body.path("authorization_endpoint").asText(""), body.path("token_endpoint").asText(""),
                build(jwks));
    }

    private JwtConsumer build(String jwksUri) {
        HttpsJwks keys = new HttpsJwks(jwksUri);
        keys.setDefaultCacheDuration(300);
        JwtConsumerBuilder builder = new JwtConsumerBuilder()
                .setRequireExpirationTime()
                .setRequireSubject()
                .setAllowedClockSkewInSeconds((int) settings.clockSkew().toSeconds())
                .setExpectedIssuer(settings.issuer())
                .setJwsAlgorithmConstraints(ASYMMETRIC)
                .setVerificationKeyResolver(new HttpsJwksVerificationKeyResolver(keys));
        settings.audience().ifPresentOrElse(builder::setExpectedAudience, builder::setSkipDefaultAudienceValidation);
        return builder.build();
    }

    private String principal(JwtClaims claims) {
        Object named = claims.getClaimValue(settings.principalClaim());
        if (named instanceof String s && !s.isBlank()) {
            return s;
        }
        try {
            return claims.getSubject();
        } catch (MalformedClaimException e) {
            throw refused("its 'sub' claim is not a string");
        }
    }

    private Set<Role> roles(JwtClaims claims) {
        Object value = claims.getClaimsMap();
        for (String part : settings.rolesClaim().split("\\.")) {
            value = value instanceof Map<?, ?> m ? m.get(part) : null;
        }
        List<Object> names = new ArrayList<>();
        if (value instanceof List<?> list) {
            names.addAll(list);
        } else if (value instanceof String s) {
            names.addAll(List.of(s.split("[ ,]+"))); // a space- or comma-separated string, as some providers send
        }
        String prefix = settings.rolePrefix().orElse("");
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (Object name : names) {
            if (name instanceof String s && s.regionMatches(true, 0, prefix, 0, prefix.length())) {
                String bare = s.substring(prefix.length());
                for (Role role : Role.values()) {
                    if (role.wireName().equalsIgnoreCase(bare)) {
                        roles.add(role);
                    }
                }
            }
        }
        return roles;
    }

    /** What the roles claim held, for a 403 that says why a signed-in caller has no role. */
    public String rolesClaim() {
        return settings.rolesClaim() + settings.rolePrefix().map(p -> " (names prefixed '" + p + "')").orElse("");
    }

    private String reason(InvalidJwtException e) {
        if (e.hasExpired()) {
            return "it has expired";
        }
        if (e.hasErrorCode(ErrorCodes.ISSUER_INVALID) || e.hasErrorCode(ErrorCodes.ISSUER_MISSING)) {
            return "it was not issued by " + settings.issuer();
        }
        if (e.hasErrorCode(ErrorCodes.AUDIENCE_INVALID) || e.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)) {
            return "its audience is not '" + settings.audience().orElse("") + "'";
        }
        if (e.hasErrorCode(ErrorCodes.NOT_YET_VALID)) {
            return "it is not valid yet (nbf)";
        }
        if (e.hasErrorCode(ErrorCodes.EXPIRATION_MISSING)) {
            return "it has no expiry (exp)";
        }
        if (e.hasErrorCode(ErrorCodes.SUBJECT_MISSING)) {
            return "it has no subject (sub)";
        }
        if (e.hasErrorCode(ErrorCodes.SIGNATURE_INVALID) || causedBy(e, UnresolvableKeyException.class)) {
            return "its signature does not verify with the provider's keys";
        }
        return "it is not a valid signed JWT (" + rootMessage(e) + ")";
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> kind) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (kind.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage();
    }

    private ProblemException refused(String why) {
        return AuthFilter.unauthenticated("the bearer JWT is refused: " + why);
    }

    ProblemException providerDown(String why) {
        return new ProblemException(503, "Service Unavailable", "cannot check the bearer JWT: the OIDC provider "
                + settings.issuer() + " is unavailable; " + why, List.of());
    }
}
