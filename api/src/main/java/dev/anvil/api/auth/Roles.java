package dev.anvil.api.auth;

/**
 * The {@link Role} names as constants, for {@code @RolesAllowed}: a caller's SecurityIdentity holds these
 * names (API tokens from their stored roles, OIDC callers from the provider's roles claim, see {@link OidcRoles}).
 */
public final class Roles {
    public static final String SUBMITTER = "submitter";
    public static final String REVIEWER = "reviewer";
    public static final String ADMIN = "admin";

    private Roles() {
    }
}
