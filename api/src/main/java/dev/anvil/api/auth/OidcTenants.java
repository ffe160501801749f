package dev.anvil.api.auth;

import dev.anvil.api.config.AnvilConfig;
import io.quarkus.oidc.OidcRequestContext;
import io.quarkus.oidc.OidcTenantConfig;
import io.quarkus.oidc.TenantConfigResolver;
import io.quarkus.oidc.runtime.OidcTenantConfig.ApplicationType;
import io.quarkus.oidc.runtime.OidcTenantConfig.Roles.Source;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.Optional;

/**
 * quarkus-oidc's tenants, made from {@code anvil.auth.oidc.*} so that OIDC stays off until an issuer is set
 * (the default tenant is disabled in application.properties): {@value #API} checks bearer JWTs (service),
 * {@value #UI} signs reviewers in to the web UI (authorization code flow with PKCE) when a client id is set
 * too. Discovery, JWKS fetching and key rotation, signature, issuer, audience and expiry checks are the
 * extension's; {@link OidcRoles} turns the roles claim into Anvil's roles.
 */
@ApplicationScoped
public class OidcTenants implements TenantConfigResolver {
    static final String API = "anvil-api";
    static final String UI = "anvil-ui";
    /** The UI's single sign-on: starting it, and the provider's answer. */
    public static final String LOGIN_PATH = "/ui/login/oidc";
    public static final String CALLBACK_PATH = "/ui/login/oidc/callback";
    /** Where the provider's refusal (error=...) is shown. */
    public static final String ERROR_PATH = "/ui/login/oidc/error";

    private final Optional<OidcTenantConfig> api;
    private final Optional<String> audience;
    private final Optional<OidcTenantConfig> ui;

    @Inject
    public OidcTenants(AnvilConfig config) {
        AnvilConfig.Auth.Oidc oidc = config.auth().oidc();
        Optional<String> issuer = oidc.issuer().filter(i -> !i.isBlank());
        audience = oidc.audience().filter(a -> !a.isBlank());
        api = issuer.map(i -> OidcTenantConfig.authServerUrl(i)
                .tenantId(API)
                .applicationType(ApplicationType.SERVICE)
                .roles().source(Source.accesstoken).roleClaimPath(claimPath(oidc.rolesClaim()))
                    .roleClaimSeparator("[ ,]+").end()
                .token()
                    .issuer(i)
                    .audience(audience.orElse("any"))
                    .subjectRequired()
                    .lifespanGrace((int) oidc.clockSkew().toSeconds())
                    .forcedJwkRefreshInterval(oidc.jwksRefreshInterval())
                    // JWTs are checked against the provider's keys only; opaque bearer tokens are Anvil's own
                    .allowJwtIntrospection(false)
                    .allowOpaqueTokenIntrospection(false)
                    .end()
                .build());
        ui = issuer.flatMap(i -> oidc.clientId().filter(c -> !c.isBlank()).map(client -> {
            var builder = OidcTenantConfig.authServerUrl(i)
                    .tenantId(UI)
                    .applicationType(ApplicationType.WEB_APP)
                    .clientId(client)
                    // Keycloak puts realm roles in the access token, not the ID token
                    .roles().source(Source.accesstoken).roleClaimPath(claimPath(oidc.rolesClaim()))
                        .roleClaimSeparator("[ ,]+").end()
                    .token()
                        .issuer(i)
                        .lifespanGrace((int) oidc.clockSkew().toSeconds())
                        .forcedJwkRefreshInterval(oidc.jwksRefreshInterval())
                        .end()
                    .authentication()
                        .pkceRequired()
                        .scopes(Arrays.stream(oidc.scopes().split("[ ,]+")).filter(s -> !s.isBlank()).toList())
                        .redirectPath(oidc.redirectUri().filter(u -> !u.isBlank()).orElse(CALLBACK_PATH))
                        // the callback page itself answers, so the session cookie is set on a page of this site
                        .restorePathAfterRedirect(false)
                        .removeRedirectParameters(false)
                        .failOnMissingStateParam()
                        .errorPath(ERROR_PATH)
                        // an expired session that cannot be refreshed counts as signed out
                        .sessionExpiredPath("/ui/login")
                        .cookiePath("/")
                        .end();
            oidc.clientSecret().filter(s -> !s.isBlank()).ifPresent(builder::credentials);
            return builder.build();
        }));
    }

    /** True when the web UI offers single sign-on. */
    public boolean singleSignOn() {
        return ui.isPresent();
    }

    /** The configured issuer, when OIDC is on. */
    public Optional<String> issuer() {
        return api.flatMap(OidcTenantConfig::authServerUrl);
    }

    /** The audience a bearer JWT must carry, when one is configured. */
    public Optional<String> audience() {
        return audience;
    }

    @Override
    public Uni<OidcTenantConfig> resolve(RoutingContext context, OidcRequestContext<OidcTenantConfig> requestContext) {
        if (api.isEmpty()) {
            return Uni.createFrom().nullItem(); // the default tenant, which is disabled
        }
        boolean bearer = context.request().getHeader(HttpHeaders.AUTHORIZATION) != null;
        if (ui.isPresent() && !bearer && context.normalizedPath().startsWith("/ui/")) {
            return Uni.createFrom().item(ui.get());
        }
        return Uni.createFrom().item(api.get());
    }

    /** Anvil names nested claims with dots (realm_access.roles), quarkus-oidc with slashes. */
    private static String claimPath(String dotted) {
        return dotted.replace('.', '/');
    }
}
