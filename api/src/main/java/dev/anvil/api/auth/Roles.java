package dev.anvil.api.auth;

/**
 * The {@link Role} names as constants, for {@code @RolesAllowed}: a caller's SecurityIdentity holds these
 * names (API tokens from their stored roles, OIDC callers from the provider's roles claim, see {@link OidcRoles}),
 * and the roles they imply ({@link ImpliedRoles}), so a read names {@link #VIEWER} alone.
 */
public final class Roles {
    public static final String VIEWER = "viewer";
    public static final String SUBMITTER = "submitter";
    public static final String REVIEWER = "reviewer";
    public static final String ADMIN = "admin";
    public static final String INVOKER = "invoker";

    private Roles() {
    }
}
