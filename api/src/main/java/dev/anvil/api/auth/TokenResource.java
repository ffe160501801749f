package dev.anvil.api.auth;

import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.ApiToken;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.AuditLogStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Who am I, and (admins) new tokens. A token is shown once, in the answer that makes it. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class TokenResource {
    @Inject CurrentCaller caller;
    @Inject ApiTokenStore tokens;
    @Inject AuditLogStore audit;

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
    @Requires(Role.ADMIN)
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
        body.put("token", token);
        body.put("note", "store the token now: Anvil keeps only its hash and cannot show it again");
        return Response.status(201).entity(body).build();
    }
}
