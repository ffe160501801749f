package dev.anvil.api.auth;

import java.util.Set;

/**
 * Who is calling: the principal a token names and its roles.
 *
 * @param fromOidc true when the caller came with an OIDC provider's JWT rather than an Anvil API token
 */
public record Caller(String principal, Set<Role> roles, boolean fromOidc) {
    public Caller(String principal, Set<Role> roles) {
        this(principal, roles, false);
    }

    public boolean has(Role role) {
        return roles.contains(role);
    }
}
