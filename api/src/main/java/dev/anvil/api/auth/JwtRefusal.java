package dev.anvil.api.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.oidc.OIDCException;
import io.quarkus.security.AuthenticationCompletionException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.lang.UnresolvableKeyException;

/**
 * Why quarkus-oidc refused a token or a sign-in, in words a caller can act on. The extension checks; this
 * only reads the cause it attaches to its failure.
 */
final class JwtRefusal {
    /** The algorithms quarkus-oidc accepts for provider-signed tokens (asymmetric only). */
    private static final List<String> ASYMMETRIC = List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA");
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String EXPIRED = "it has expired";

    private JwtRefusal() {
    }

    /** Why a bearer JWT was refused. */
    static String of(String token, Throwable failure, String issuer, Optional<String> audience) {
        String alg;
        try {
            String header = new String(Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))),
                    StandardCharsets.UTF_8);
            alg = JSON.readTree(header).path("alg").asText("none");
        } catch (IllegalArgumentException | IOException e) {
            return "its header is not base64url-encoded JSON";
        }
        if (!ASYMMETRIC.contains(alg)) {
            return "it is signed with '" + alg + "', not an asymmetric algorithm the provider's keys allow ("
                    + String.join(", ", ASYMMETRIC) + ")";
        }
        InvalidJwtException invalid = find(failure, InvalidJwtException.class);
        if (invalid != null) {
            if (invalid.hasExpired()) {
                return EXPIRED;
            }
            if (invalid.hasErrorCode(ErrorCodes.ISSUER_INVALID) || invalid.hasErrorCode(ErrorCodes.ISSUER_MISSING)) {
                return "it was not issued by " + issuer;
            }
            if (invalid.hasErrorCode(ErrorCodes.AUDIENCE_INVALID) || invalid.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)) {
                return "its audience is not '" + audience.orElse("") + "'";
            }
            if (invalid.hasErrorCode(ErrorCodes.NOT_YET_VALID)) {
                return "it is not valid yet (nbf)";
            }
            if (invalid.hasErrorCode(ErrorCodes.EXPIRATION_MISSING)) {
                return "it has no expiry (exp)";
            }
            if (invalid.hasErrorCode(ErrorCodes.SUBJECT_MISSING)) {
                return "it has no subject (sub)";
            }
        }
        if (find(failure, UnresolvableKeyException.class) != null
                || invalid != null && invalid.hasErrorCode(ErrorCodes.SIGNATURE_INVALID)) {
            return "its signature does not verify with the provider's keys";
        }
        return "it is not a valid signed JWT from " + issuer;
    }

    /** Why the web UI's single sign-on did not complete. */
    static String ofSignIn(Throwable failure, ObjectMapper json) {
        String message = failure.getMessage() == null ? "" : failure.getMessage();
        if (failure instanceof AuthenticationCompletionException && message.contains("State")) {
            return "the sign-in answer does not belong to a sign-in this browser started, or it took too long;"
                    + " start it again";
        }
        OIDCException refused = find(failure, OIDCException.class);
        if (refused != null) {
            JsonNode answer = AuthFailures.parse(json, String.valueOf(refused.getMessage()));
            if (answer != null && answer.has("error")) {
                String description = answer.path("error_description").asText("");
                return "the provider refused the authorization code: " + answer.path("error").asText()
                        + (description.isBlank() ? "" : " (" + description + ")");
            }
        }
        if (providerUnreachable(failure)) {
            return "the provider cannot be reached; try again later";
        }
        return "the provider's answer could not be checked; start it again";
    }

    /** True when the provider's discovery document or keys could not be fetched. */
    static boolean providerUnreachable(Throwable failure) {
        return find(failure, ConnectException.class) != null
                || find(failure, OIDCException.class) != null && find(failure, InvalidJwtException.class) == null;
    }

    private static <T extends Throwable> T find(Throwable failure, Class<T> kind) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (kind.isInstance(t)) {
                return kind.cast(t);
            }
        }
        return null;
    }
}
