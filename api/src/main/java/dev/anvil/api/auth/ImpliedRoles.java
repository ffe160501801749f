package dev.anvil.api.auth;

import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.SecurityIdentityAugmentor;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashSet;
import java.util.Set;

/**
 * Adds the roles a caller's roles imply ({@link Role#implied()}) to every identity, API token or OIDC alike,
 * so that endpoints name the least role they need ({@code @RolesAllowed(Roles.VIEWER)} for a read) and the
 * rule "who may change it may read it" lives in one place. Runs after {@link OidcRoles}, which maps the
 * provider's role names first.
 */
@ApplicationScoped
public class ImpliedRoles implements SecurityIdentityAugmentor {
    @Override
    public int priority() {
        return -100; // lower runs later: after OidcRoles (0)
    }

    @Override
    public Uni<SecurityIdentity> augment(SecurityIdentity identity, AuthenticationRequestContext context) {
        if (identity.isAnonymous()) {
            return Uni.createFrom().item(identity);
        }
        Set<String> added = new HashSet<>();
        for (String name : identity.getRoles()) {
            Role role = Role.ofWireName(name);
            if (role != null) {
                role.implied().forEach(r -> added.add(r.wireName()));
            }
        }
        added.removeAll(identity.getRoles());
        if (added.isEmpty()) {
            return Uni.createFrom().item(identity);
        }
        return Uni.createFrom().item(QuarkusSecurityIdentity.builder(identity).addRoles(added).build());
    }
}
