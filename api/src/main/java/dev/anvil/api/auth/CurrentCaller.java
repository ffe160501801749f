package dev.anvil.api.auth;

import dev.anvil.api.problem.ProblemException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The caller of the current request, from its SecurityIdentity; empty for a request without credentials. */
@RequestScoped
public class CurrentCaller {
    @Inject SecurityIdentity identity;

    public Optional<Caller> get() {
        if (identity.isAnonymous()) {
            return Optional.empty();
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (Role role : Role.values()) {
            if (identity.hasRole(role.wireName())) {
                roles.add(role);
            }
        }
        return Optional.of(new Caller(identity.getPrincipal().getName(), roles,
                Boolean.TRUE.equals(identity.getAttribute(OidcRoles.FROM_OIDC))));
    }

    /** The caller, or 401 when the request carried no credentials (for endpoints that need one but no role). */
    public Caller require() {
        return get().orElseThrow(() -> SecurityProblems.unauthenticated("this endpoint needs an API token"));
    }

    /** The name recorded as who did something: the principal. */
    public String name() {
        return require().principal();
    }

    static ProblemException forbidden(String detail) {
        return new ProblemException(403, "Forbidden", detail, List.of());
    }
}
