package dev.anvil.api.serving;

import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.Roles;
import dev.anvil.serving.Gateway;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The Open Inference Protocol's server endpoints, which standard clients call before a model's: server
 * metadata, liveness and readiness. Secured like a model's metadata and readiness: the role
 * {@value Roles#INVOKER} (an admin has it), unless the gateway serves a public endpoint, whose anonymous
 * callers' clients ask these too. They name no model, so they tell a stranger nothing a public endpoint does not.
 */
@Path("/v2")
@Tag(name = "inference")
public class InferenceServerResource {
    /** The protocol extensions the gateway supports. */
    static final List<String> EXTENSIONS = List.of("binary_tensor_data");

    @Inject Gateway gateway;
    @Inject SecurityIdentity identity;
    @ConfigProperty(name = "quarkus.application.name") String name;
    @ConfigProperty(name = "quarkus.application.version", defaultValue = "unknown") String version;

    /** The server metadata the protocol defines. */
    public record ServerMetadata(String name, String version, List<String> extensions) {
    }

    @GET
    @PermitAll
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Server metadata (Open Inference Protocol)",
            description = "The server's name, version and the protocol extensions it supports (binary_tensor_data).")
    @APIResponse(responseCode = "200", description = "name, version and extensions")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token (or an unknown or revoked one), and no endpoint is public")
    @APIResponse(responseCode = "403", description = "the caller lacks the role invoker, and no endpoint is public")
    public ServerMetadata metadata() {
        mayCall("GET /v2");
        return new ServerMetadata(name, version, EXTENSIONS);
    }

    @GET
    @PermitAll
    @Path("/health/live")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Whether the server is live (Open Inference Protocol)")
    @APIResponse(responseCode = "200", description = "live: {\"live\": true}")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token (or an unknown or revoked one), and no endpoint is public")
    @APIResponse(responseCode = "403", description = "the caller lacks the role invoker, and no endpoint is public")
    public Map<String, Boolean> live() {
        mayCall("GET /v2/health/live");
        return Map.of("live", true);
    }

    @GET
    @PermitAll
    @Path("/health/ready")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Whether every version of every served model has its session loaded (Open Inference Protocol)")
    @APIResponse(responseCode = "200", description = "ready: {\"ready\": true}")
    @APIResponse(responseCode = "503", description = "a model version is still loading or cannot be loaded: {\"ready\": false}",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, example = "{\"ready\": false}"))
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token (or an unknown or revoked one), and no endpoint is public")
    @APIResponse(responseCode = "403", description = "the caller lacks the role invoker, and no endpoint is public")
    public Response ready() {
        mayCall("GET /v2/health/ready");
        boolean ready = gateway.ready();
        return Response.status(ready ? 200 : 503).entity(Map.of("ready", ready)).build();
    }

    private void mayCall(String what) {
        InvokerAccess.require(identity, gateway::anyPublic, what, "an endpoint is public", "");
    }
}
