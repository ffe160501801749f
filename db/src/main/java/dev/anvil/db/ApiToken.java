package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/** A row of api_tokens: the hash of a token, whom it names and the roles it grants. */
public record ApiToken(String tokenSha256, String principal, List<String> roles, String label, String createdBy,
                       Instant createdAt, Instant revokedAt) {

    /** Kept in step with api_tokens_roles_check (V19). */
    public static final List<String> ROLES = List.of("viewer", "submitter", "reviewer", "admin", "invoker");

    public boolean active() {
        return revokedAt == null;
    }
}
