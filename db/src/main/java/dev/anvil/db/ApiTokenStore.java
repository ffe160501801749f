package dev.anvil.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * API tokens, kept as SHA-256 hashes. A token is 32 random bytes (URL-safe base64 behind an
 * {@code anvil_} prefix), so a plain hash is enough: there is nothing to guess that a slow hash
 * would protect, and a lookup per request stays one index probe.
 */
public final class ApiTokenStore {

    private static final String TABLE = "api_tokens";
    private static final String COLUMNS = "token_sha256, principal, roles, label, created_by, created_at, revoked_at";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Jdbc jdbc;

    public ApiTokenStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /** A new random token; store it with {@link #register} and show it to its holder once. */
    public static String newToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return "anvil_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * Stores the hash of {@code token} for {@code principal} with {@code roles}. Registering the same
     * token again is a no-op (so seeding is idempotent) and returns the stored row.
     */
    public ApiToken register(String token, String principal, List<String> roles, String label, String createdBy) {
        String op = "register";
        Validate.notNull(TABLE, op, "token", token);
        if (principal == null || principal.isBlank()) {
            throw DataAccessException.badInput(TABLE, op, "principal is required (the name of the person or service)");
        }
        if (roles == null || roles.isEmpty()) {
            throw DataAccessException.badInput(TABLE, op, "roles must name at least one of " + ApiToken.ROLES);
        }
        roles.forEach(r -> Validate.oneOf(TABLE, op, "role", r, ApiToken.ROLES));
        String sha = hash(token);
        return jdbc.withConnection(TABLE, op, c -> {
            Array array = c.createArrayOf("text", roles.toArray());
            Jdbc.update(c, "INSERT INTO api_tokens (token_sha256, principal, roles, label, created_by)"
                    + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_sha256) DO NOTHING", sha, principal, array, label, createdBy);
            return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM api_tokens WHERE token_sha256 = ?", ApiTokenStore::map, sha)
                    .orElseThrow();
        });
    }

    /** The active (not revoked) token row for a presented token, if any. */
    public Optional<ApiToken> authenticate(String token) {
        if (token == null || token.isBlank()) {
            return Optional.empty();
        }
        return jdbc.queryOne(TABLE, "authenticate", "SELECT " + COLUMNS
                + " FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL", ApiTokenStore::map, hash(token));
    }

    /** Every token of a principal (active and revoked), newest first. */
    public List<ApiToken> listByPrincipal(String principal) {
        return jdbc.query(TABLE, "list", "SELECT " + COLUMNS
                + " FROM api_tokens WHERE principal = ? ORDER BY created_at DESC", ApiTokenStore::map, principal);
    }

    /** Every token (active and revoked), newest first. */
    public List<ApiToken> list() {
        return jdbc.query(TABLE, "list", "SELECT " + COLUMNS + " FROM api_tokens ORDER BY created_at DESC",
                ApiTokenStore::map);
    }

    /** The token row with this hash, active or revoked. */
    public Optional<ApiToken> find(String tokenSha256) {
        return jdbc.queryOne(TABLE, "find", "SELECT " + COLUMNS + " FROM api_tokens WHERE token_sha256 = ?",
                ApiTokenStore::map, tokenSha256);
    }

    /** Revokes a token by its hash; true when an active token was revoked. */
    public boolean revoke(String tokenSha256) {
        return jdbc.withConnection(TABLE, "revoke", c -> Jdbc.update(c,
                "UPDATE api_tokens SET revoked_at = now() WHERE token_sha256 = ? AND revoked_at IS NULL", tokenSha256) == 1);
    }

    private static ApiToken map(ResultSet rs) throws SQLException {
        String[] roles = (String[]) rs.getArray("roles").getArray();
        return new ApiToken(rs.getString("token_sha256"), rs.getString("principal"), List.of(roles),
                rs.getString("label"), rs.getString("created_by"), Jdbc.instant(rs, "created_at"),
                Jdbc.instant(rs, "revoked_at"));
    }
}
