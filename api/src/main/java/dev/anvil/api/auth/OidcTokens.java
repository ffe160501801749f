package dev.anvil.api.auth;

import dev.anvil.api.config.AnvilConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;

/** The configured {@link OidcVerifier}, when {@code anvil.auth.oidc.issuer} is set. */
@ApplicationScoped
public class OidcTokens {
    private final Optional<OidcVerifier> verifier;

    @Inject
    public OidcTokens(AnvilConfig config) {
        AnvilConfig.Auth.Oidc oidc = config.auth().oidc();
        verifier = oidc.issuer().filter(i -> !i.isBlank()).map(issuer -> new OidcVerifier(new OidcVerifier.Settings(
                issuer, oidc.audience(), oidc.rolesClaim(), oidc.rolePrefix(), oidc.principalClaim(),
                oidc.clockSkew())));
    }

    public Optional<OidcVerifier> verifier() {
        return verifier;
    }
}
