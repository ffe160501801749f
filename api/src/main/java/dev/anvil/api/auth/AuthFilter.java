package dev.anvil.api.auth;

import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.ApiToken;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Identifies the caller from {@code Authorization: Bearer <token>} (API clients: an Anvil API token, or a
 * JWT from the OIDC provider when one is configured, see {@link OidcVerifier}) or the
 * {@value #COOKIE} cookie (the web UI, set by its sign-in form) and enforces {@link Requires}.
 * A token that is presented but unknown or revoked is refused everywhere (401), so a typo never
 * silently turns into an anonymous call. Runs after matching, on the endpoint's worker thread.
 */
public class AuthFilter {
    public static final String COOKIE = "anvil_token";

    @Inject Provider<TokenCache> tokens;
    @Inject CurrentCaller current;
    @Inject OidcTokens oidc;

    @ServerRequestFilter
    public Response authenticate(ContainerRequestContext request, ResourceInfo resource) {
        Optional<String> token = token(request);
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        boolean fromHeader = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
        if (token.isPresent() && OidcVerifier.looksLikeJwt(token.get())) {
            if (oidc.verifier().isEmpty() && fromHeader) {
                return problem(request, unauthenticated("the bearer token is a JWT, but OIDC is not configured here "
                        + "(set anvil.auth.oidc.issuer), so only Anvil API tokens are accepted"));
            }
            if (oidc.verifier().isPresent()) {
                try {
                    current.set(oidc.verifier().get().verify(token.get()));
                } catch (ProblemException e) {
                    if (fromHeader || e.status() != 401) {
                        return problem(request, e);
                    }
                    // an expired single-sign-on cookie counts as signed out, like a revoked token's cookie
                }
            }
            token = Optional.empty();
        }
        if (token.isPresent()) {
            Optional<ApiToken> row = tokens.get().authenticate(token.get());
            if (row.isEmpty() && !fromHeader) {
                // a stale UI cookie (revoked token) counts as signed out, so the sign-in page still opens
                token = Optional.empty();
            } else if (row.isEmpty()) {
                return problem(request, unauthenticated("the API token is unknown or revoked; ask an admin for a new one"));
            }
            if (row.isPresent()) {
                current.set(new Caller(row.get().principal(), roles(row.get().roles())));
            }
        }
        Method method = resource == null ? null : resource.getResourceMethod();
        Requires requires = method == null ? null : method.getAnnotation(Requires.class);
        if (requires == null) {
            return null;
        }
        String needed = Arrays.stream(requires.value()).map(Role::wireName).collect(Collectors.joining(" or "));
        if (current.get().isEmpty()) {
            return problem(request, unauthenticated(request.getMethod() + " " + request.getUriInfo().getPath()
                    + " needs an API token with the role " + needed));
        }
        Caller caller = current.get().get();
        if (Arrays.stream(requires.value()).noneMatch(caller::has)) {
            String where = caller.fromOidc() ? " (from the JWT claim " + oidc.verifier().map(OidcVerifier::rolesClaim)
                    .orElse("?") + ")" : "";
            return problem(request, CurrentCaller.forbidden("'" + caller.principal() + "' (roles "
                    + caller.roles().stream().map(Role::wireName).toList() + where + ") may not " + request.getMethod()
                    + " " + request.getUriInfo().getPath() + ": it needs the role " + needed));
        }
        return null;
    }

    static ProblemException unauthenticated(String detail) {
        return new ProblemException(401, "Unauthorized", detail
                + " (send 'Authorization: Bearer <token>'; ./anvil up prints the demo tokens)", List.of());
    }

    private static Optional<String> token(ContainerRequestContext request) {
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.of(header.substring(7).trim());
        }
        Cookie cookie = request.getCookies().get(COOKIE);
        return cookie == null || cookie.getValue().isBlank() ? Optional.empty() : Optional.of(cookie.getValue());
    }

    private static Set<Role> roles(List<String> names) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        names.forEach(n -> roles.add(Role.valueOf(n.toUpperCase())));
        return roles;
    }

    private static Response problem(ContainerRequestContext request, ProblemException e) {
        Problem body = new Problem("about:blank", e.title(), e.status(), e.getMessage(), request.getUriInfo().getPath(),
                e.errors());
        Response.ResponseBuilder response = Response.status(e.status()).type(Problem.MEDIA_TYPE).entity(body);
        if (e.status() == 401) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"anvil\"");
        }
        return response.build();
    }
}
