package dev.anvil.api.auth;

import dev.anvil.api.config.AnvilConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;

/**
 * The configured {@link OidcVerifier}, when {@code anvil.auth.oidc.issuer} is set, and the web UI's
 * {@link OidcLogin} when {@code anvil.auth.oidc.client-id} is set too.
 */
@ApplicationScoped
public class OidcTokens {
    private final Optional<OidcVerifier> verifier;
    private final Optional<OidcLogin> login;
    private final Optional<String> redirectUri;

    @Inject
    public OidcTokens(AnvilConfig config) {
        AnvilConfig.Auth.Oidc oidc = config.auth().oidc();
        verifier = oidc.issuer().filter(i -> !i.isBlank()).map(issuer -> new OidcVerifier(new OidcVerifier.Settings(
                issuer, oidc.audience(), oidc.rolesClaim(), oidc.rolePrefix(), oidc.principalClaim(),
                oidc.clockSkew())));
        login = verifier.flatMap(v -> oidc.clientId().filter(c -> !c.isBlank())
                .map(client -> new OidcLogin(v, client, oidc.clientSecret().filter(x -> !x.isBlank()), oidc.scopes())));
        redirectUri = oidc.redirectUri().filter(u -> !u.isBlank());
    }

    /** The web UI's single sign-on, when a client id is configured too. */
    public Optional<OidcLogin> login() {
        return login;
    }

    /** The configured callback address, when the request's own cannot be trusted (a proxy in front). */
    public Optional<String> redirectUri() {
        return redirectUri;
    }

    public Optional<OidcVerifier> verifier() {
        return verifier;
    }
}
