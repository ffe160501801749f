package dev.anvil.api.auth;

import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.ApiToken;
import dev.anvil.db.ApiTokenStore;
import io.quarkus.security.Authenticated;
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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Who am I, and (admins) tokens: make one, list them, revoke one. A token is shown once, in the answer
 * that makes it; afterwards it is named by its id, the SHA-256 Anvil stores (which is no credential).
 */
@Path("/api")
@Tag(name = "tokens")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class TokenResource {
    @Inject CurrentCaller caller;
    @Inject ApiTokenStore tokens;
    @Inject AuditTrail trail;
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
    @Operation(summary = "List API tokens, newest first (role admin)",
            description = "Never the tokens themselves: each is named by its id, the SHA-256 Anvil stores.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the tokens")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    public List<TokenView> list(
            @Parameter(description = "only this principal's tokens") @QueryParam("principal") String principal) {
        List<ApiToken> rows = principal == null || principal.isBlank() ? tokens.list()
                : tokens.listByPrincipal(principal.trim());
        return rows.stream().map(TokenView::of).toList();
    }

    @DELETE
    @Path("/tokens/{id}")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Revoke an API token by its id (role admin)", description = "This process stops accepting "
            + "the token at once, other processes within anvil.auth.token-cache-ttl. Revoking again changes nothing.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the token as listed, revokedAt set")
    @APIResponse(responseCode = "400", description = "the id is not a 64-hex SHA-256 (the token itself, say)")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "404", description = "no token with this id")
    public TokenView revoke(@Parameter(description = "the token's id as GET /api/tokens lists it",
            schema = @Schema(type = SchemaType.STRING, pattern = "^[0-9a-f]{64}$")) @PathParam("id") String id) {
        if (id == null || !id.matches("[0-9a-f]{64}")) {
            throw ProblemException.badRequest("id", "a token id is the 64-hex SHA-256 that GET /api/tokens lists"
                    + " (and POST /api/tokens answered), not the token itself");
        }
        ApiToken row = tokens.find(id).orElseThrow(() -> ProblemException.notFound("no token with id '" + id + "'"));
        if (tokens.revoke(id)) {
            trail.record("token.revoked", "principal:" + row.principal(), "id", id);
        }
        cache.forget(id);
        return TokenView.of(tokens.find(id).orElseThrow());
    }

    public record TokenRequest(String principal, List<String> roles, String label) {}

    @GET
    @Authenticated // any signed-in caller may ask who it is; anonymous callers get 401
    @Path("/me")
    @Operation(summary = "Who the token names, and its roles")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "principal and roles")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    public Map<String, Object> me() {
        Caller c = caller.require();
        return Map.of("principal", c.principal(), "roles", c.roles().stream().map(Role::wireName).toList());
    }

    @POST
    @Path("/tokens")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Make an API token (role admin)",
            description = "roles: one or more of viewer (reads), submitter, reviewer, admin (each implies viewer; admin "
                    + "also invoker), invoker (inference only). The token is shown once, in this answer; "
                    + "Anvil stores only its hash, which is its id.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = TokenRequest.class), examples = @ExampleObject(name = "ci",
            value = "{\"principal\": \"ci-bot\", \"roles\": [\"submitter\"], \"label\": \"nightly retraining\"}")))
    @APIResponse(responseCode = "201", description = "the token, its id (the stored SHA-256), principal and roles")
    @APIResponse(responseCode = "400", description = "no principal, no roles or an unknown role, or the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
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
        trail.record("token.created", "principal:" + row.principal(), "id", row.tokenSha256(), "roles", row.roles());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("principal", row.principal());
        body.put("roles", row.roles());
        body.put("id", row.tokenSha256());
        body.put("token", token);
        body.put("note", "store the token now: Anvil keeps only its hash and cannot show it again");
        return Response.status(201).entity(body).build();
    }
}
