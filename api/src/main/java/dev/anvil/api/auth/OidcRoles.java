package dev.anvil.api.auth;

import dev.anvil.api.config.AnvilConfig;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.SecurityIdentityAugmentor;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Turns an OIDC caller's identity into an Anvil caller: the roles quarkus-oidc read from the roles claim
 * become Anvil's roles (after the optional prefix, case-insensitively; other names are dropped), and the
 * principal is the {@code anvil.auth.oidc.principal-claim}, or the subject when the token lacks it.
 */
@ApplicationScoped
public class OidcRoles implements SecurityIdentityAugmentor {
    /** Set on identities that came from an OIDC provider's token. */
    static final String FROM_OIDC = "anvil.from-oidc";

    private final String principalClaim;
    private final String rolesClaim;
    private final Optional<String> prefix;

    @Inject
    public OidcRoles(AnvilConfig config) {
        AnvilConfig.Auth.Oidc oidc = config.auth().oidc();
        principalClaim = oidc.principalClaim();
        rolesClaim = oidc.rolesClaim();
        prefix = oidc.rolePrefix().filter(p -> !p.isBlank());
    }

    @Override
    public Uni<SecurityIdentity> augment(SecurityIdentity identity, AuthenticationRequestContext context) {
        if (identity.isAnonymous() || !(identity.getPrincipal() instanceof JsonWebToken jwt)) {
            return Uni.createFrom().item(identity);
        }
        QuarkusSecurityIdentity.Builder anvil = QuarkusSecurityIdentity.builder()
                .setPrincipal(new QuarkusPrincipal(principal(jwt)))
                .addCredentials(identity.getCredentials())
                .addAttributes(identity.getAttributes())
                .addAttribute(FROM_OIDC, true);
        String p = prefix.orElse("");
        for (String name : identity.getRoles()) {
            if (name.regionMatches(true, 0, p, 0, p.length())) {
                String bare = name.substring(p.length());
                for (Role role : Role.values()) {
                    if (role.wireName().equalsIgnoreCase(bare)) {
                        anvil.addRole(role.wireName());
                    }
                }
            }
        }
        return Uni.createFrom().item(anvil.build());
    }

    private String principal(JsonWebToken jwt) {
        Object named = jwt.getClaim(principalClaim);
        String name = named == null ? null : named.toString();
        if (name != null && name.startsWith("\"") && name.endsWith("\"") && name.length() > 1) {
            name = name.substring(1, name.length() - 1); // a JSON string value
        }
        return name == null || name.isBlank() ? jwt.getSubject() : name;
    }

    /** Where a signed-in OIDC caller's roles came from, for a 403 that says why a role is missing. */
    public String rolesClaim() {
        return rolesClaim + prefix.map(p -> " (names prefixed '" + p + "')").orElse("");
    }
}
