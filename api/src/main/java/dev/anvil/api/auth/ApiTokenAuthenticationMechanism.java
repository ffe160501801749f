package dev.anvil.api.auth;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Anvil's API tokens: {@code Authorization: Bearer <token>} from API clients, or the {@value #COOKIE} cookie
 * the web UI's sign-in form sets (for reading the API too, but never for a POST, PUT, PATCH or DELETE to
 * /api: those answer 401 naming the header). It runs before quarkus-oidc and leaves JWTs to it (when OIDC is on). A
 * token presented in the header but unknown or revoked is refused everywhere (401), so a typo never turns
 * into an anonymous call; a stale cookie counts as signed out, so the sign-in page still opens.
 */
@ApplicationScoped
public class ApiTokenAuthenticationMechanism implements HttpAuthenticationMechanism {
    public static final String COOKIE = "anvil_token";
    // before quarkus-oidc (DEFAULT_PRIORITY + 1), which refuses every bearer token that is not its JWT
    private static final int PRIORITY = HttpAuthenticationMechanism.DEFAULT_PRIORITY + 1000;

    @Inject OidcTenants oidc;

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identities) {
        String header = context.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String token = header.substring(7).trim();
            if (looksLikeJwt(token)) {
                if (oidc.issuer().isPresent()) {
                    return Uni.createFrom().nullItem(); // quarkus-oidc checks it
                }
                return Uni.createFrom().failure(new AuthenticationFailedException("the bearer token is a JWT, but OIDC is"
                        + " not configured here (set anvil.auth.oidc.issuer), so only Anvil API tokens are accepted"));
            }
            return identities.authenticate(HttpSecurityUtils.setRoutingContextAttribute(
                    new ApiTokenAuthenticationRequest(token, true), context));
        }
        Cookie cookie = context.request().getCookie(COOKIE);
        if (cookie == null || cookie.getValue().isBlank() || looksLikeJwt(cookie.getValue())) {
            return Uni.createFrom().nullItem();
        }
        if (changesTheApi(context)) {
            // a browser sends the cookie by itself; a change through the API must show it was meant (the header)
            return Uni.createFrom().failure(new AuthenticationFailedException("the API does not accept the web UI's"
                    + " sign-in cookie " + COOKIE + " for " + context.request().method() + " " + context.normalizedPath()
                    + "; changes through the API need the token in the Authorization header (the UI's own forms"
                    + " are under /ui)"));
        }
        return identities.authenticate(HttpSecurityUtils.setRoutingContextAttribute(
                new ApiTokenAuthenticationRequest(cookie.getValue(), false), context))
                .onFailure(AuthenticationFailedException.class).recoverWithNull();
    }

    /**
     * The UI's pages send a signed-out browser to the sign-in page (single sign-on goes to the provider,
     * quarkus-oidc's challenge); API clients get 401 naming the scheme.
     */
    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        String path = context.normalizedPath();
        if (path.startsWith("/ui/")) {
            if (oidc.singleSignOn() && path.equals(OidcTenants.CALLBACK_PATH) && context.request().getParam("state") != null
                    && context.request().cookieMap().keySet().stream().noneMatch(c -> c.startsWith("q_auth"))) {
                // the provider's answer, but this browser holds no sign-in under way (quarkus-oidc's state cookie)
                return Uni.createFrom().item(new ChallengeData(303, HttpHeaders.LOCATION, "/ui/login?error="
                        + URLEncoder.encode("Single sign-on failed: the sign-in took too long or was started in another"
                                + " browser; start it again", StandardCharsets.UTF_8)));
            }
            if (oidc.singleSignOn() && (path.equals(OidcTenants.LOGIN_PATH) || path.equals(OidcTenants.CALLBACK_PATH))) {
                return Uni.createFrom().nullItem(); // quarkus-oidc sends the browser to the provider
            }
            return Uni.createFrom().item(new ChallengeData(303, HttpHeaders.LOCATION, "/ui/login"));
        }
        return Uni.createFrom().item(new ChallengeData(401, "WWW-Authenticate", "Bearer realm=\"anvil\""));
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(ApiTokenAuthenticationRequest.class);
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }

    /** An unsafe method (not GET, HEAD or OPTIONS) on the REST API. */
    private static boolean changesTheApi(RoutingContext context) {
        String method = context.request().method().name();
        return context.normalizedPath().startsWith("/api/")
                && !(method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS"));
    }

    /** True when {@code token} has the shape of a JWS compact serialisation (API tokens never do). */
    public static boolean looksLikeJwt(String token) {
        return token.startsWith("eyJ") && token.chars().filter(c -> c == '.').count() == 2;
    }
}
