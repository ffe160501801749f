package dev.anvil.api.auth;

import java.util.Set;

/** Who is calling: the principal a token names and its roles. */
public record Caller(String principal, Set<Role> roles) {
    public boolean has(Role role) {
        return roles.contains(role);
    }
}
