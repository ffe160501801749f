package dev.anvil.api.auth;

import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * {@code @RolesAllowed} refusals as problem JSON naming what is missing: 401 without credentials, 403 naming
 * the caller, their roles (and for OIDC callers the claim they came from) and the role the endpoint needs.
 */
public class SecurityProblems {
    @Inject CurrentCaller current;
    @Inject OidcRoles oidcRoles;

    public static ProblemException unauthenticated(String detail) {
        return new ProblemException(401, "Unauthorized", detail
                + " (send 'Authorization: Bearer <token>'; ./anvil up prints the demo tokens)", List.of());
    }

    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e, ContainerRequestContext request, ResourceInfo resource) {
        return respond(request, unauthenticated(request.getMethod() + " " + request.getUriInfo().getPath()
                + " needs an API token" + needed(resource).map(n -> " with the role " + n).orElse("")));
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, ContainerRequestContext request, ResourceInfo resource) {
        Caller caller = current.get().orElse(null);
        if (caller == null) {
            return unauthorized(new UnauthorizedException(), request, resource);
        }
        String where = caller.fromOidc() ? " (from the JWT claim " + oidcRoles.rolesClaim() + ")" : "";
        return respond(request, CurrentCaller.forbidden("'" + caller.principal() + "' (roles "
                + caller.roles().stream().map(Role::wireName).toList() + where + ") may not " + request.getMethod()
                + " " + request.getUriInfo().getPath() + needed(resource).map(n -> ": it needs the role " + n)
                        .orElse("")));
    }

    private static Optional<String> needed(ResourceInfo resource) {
        Method method = resource == null ? null : resource.getResourceMethod();
        RolesAllowed allowed = method == null ? null : method.getAnnotation(RolesAllowed.class);
        return allowed == null ? Optional.empty()
                : Optional.of(Arrays.stream(allowed.value()).collect(Collectors.joining(" or ")));
    }

    static Response respond(ContainerRequestContext request, ProblemException e) {
        Problem body = new Problem("about:blank", e.title(), e.status(), e.getMessage(), request.getUriInfo().getPath(),
                e.errors());
        Response.ResponseBuilder response = Response.status(e.status()).type(Problem.MEDIA_TYPE).entity(body);
        if (e.status() == 401) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"anvil\"");
        }
        return response.build();
    }
}
