package dev.anvil.api.auth;

import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.ApiToken;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.AuditLogStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who am I, and (admins) tokens: make one, list them, revoke one. A token is shown once, in the answer
 * that makes it; afterwards it is named by its id, the SHA-256 Anvil stores (which is no credential).
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class TokenResource {
    @Inject CurrentCaller caller;
    @Inject ApiTokenStore tokens;
    @Inject AuditLogStore audit;
    @Inject ApiTokens cache;

    /** A token as listed: never the token itself. */
    public record TokenView(String id, String principal, List<String> roles, String label, String createdBy,
            java.time.Instant createdAt, java.time.Instant revokedAt, boolean active) {
        static TokenView of(ApiToken t) {
            return new TokenView(t.tokenSha256(), t.principal(), t.roles(), t.label(), t.createdBy(), t.createdAt(),
                    t.revokedAt(), t.active());
        }
    }

    @GET
    @Path("/tokens")
    @RolesAllowed(Roles.ADMIN)
    public List<TokenView> list(@QueryParam("principal") String principal) {
        List<ApiToken> rows = principal == null || principal.isBlank() ? tokens.list()
                : tokens.listByPrincipal(principal.trim());
        return rows.stream().map(TokenView::of).toList();
    }

    @DELETE
    @Path("/tokens/{id}")
    @RolesAllowed(Roles.ADMIN)
    public TokenView revoke(@PathParam("id") String id) {
        if (id == null || !id.matches("[0-9a-f]{64}")) {
            throw ProblemException.badRequest("id", "a token id is the 64-hex SHA-256 that GET /api/tokens lists"
                    + " (and POST /api/tokens answered), not the token itself");
        }
        ApiToken row = tokens.find(id).orElseThrow(() -> ProblemException.notFound("no token with id '" + id + "'"));
        if (tokens.revoke(id)) {
            audit.append(caller.name(), "token.revoked", "principal:" + row.principal(), "{\"id\": \"" + id + "\"}",
                    null);
        }
        cache.forget(id);
        return TokenView.of(tokens.find(id).orElseThrow());
    }

    public record TokenRequest(String principal, List<String> roles, String label) {}

    @GET
    @Path("/me")
    public Map<String, Object> me() {
        Caller c = caller.require();
        return Map.of("principal", c.principal(), "roles", c.roles().stream().map(Role::wireName).toList());
    }

    @POST
    @Path("/tokens")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    public Response create(TokenRequest request) {
        if (request == null || request.principal() == null || request.principal().isBlank()) {
            throw ProblemException.badRequest("principal", "'principal' is required: the name of the person or service the token is for");
        }
        if (request.roles() == null || request.roles().isEmpty()) {
            throw ProblemException.badRequest("roles", "'roles' must list at least one of " + ApiToken.ROLES);
        }
        for (String role : request.roles()) {
            if (!ApiToken.ROLES.contains(role)) {
                throw ProblemException.badRequest("roles", "unknown role '" + role + "'; expected one of " + ApiToken.ROLES);
            }
        }
        String token = ApiTokenStore.newToken();
        ApiToken row = tokens.register(token, request.principal().trim(), request.roles(), request.label(), caller.name());
        audit.append(caller.name(), "token.created", "principal:" + row.principal(),
                "{\"roles\": " + row.roles().stream().map(r -> "\"" + r + "\"").toList() + "}", null);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("principal", row.principal());
        body.put("roles", row.roles());
        body.put("id", row.tokenSha256());
        body.put("token", token);
        body.put("note", "store the token now: Anvil keeps only its hash and cannot show it again");
        return Response.status(201).entity(body).build();
    }
}
