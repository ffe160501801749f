package dev.anvil.api.serving;

import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Endpoint;
import dev.anvil.serving.EndpointManager.VersionChoice;
import dev.anvil.serving.EndpointManager;
import dev.anvil.serving.Gateway;
import dev.anvil.serving.GatewayException;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.VersionCounts;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
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

/** Managing the gateway's endpoints: which model version each serves, and its canary. */
@Path("/api/endpoints")
@Tag(name = "endpoints")
@Produces(MediaType.APPLICATION_JSON)
public class EndpointResource {
    private static final String BREAK_GLASS = "break_glass";
    private static final Set<String> VERSION_FIELDS = Set.of("model", "version", "alias", "artifact", BREAK_GLASS);
    private static final String PUBLIC = "public";
    private static final Set<String> PUT_FIELDS = Set.of("model", "version", "alias", "artifact", PUBLIC, BREAK_GLASS);
    private static final String EVIDENCE = " A version the endpoint did not serve needs the evidence production needs"
            + " (its artifact built by a pipeline run that passed a gate over a validation of it and an approval by"
            + " someone other than its requester), unless the body breaks glass: \"break_glass\": {\"reason\": \"...\"}"
            + " (audited as endpoint.break_glass, shown on the UI's Endpoints page).";
    private static final String REFUSED = "the version lacks the evidence production needs (the problem names the"
            + " missing link and how to break glass), or the caller lacks the role admin";
    static final String NAME_PATTERN = "^[a-z0-9][a-z0-9_.-]{0,62}$";

    @Inject EndpointManager manager;
    @Inject Gateway gateway;
    @Inject AuditTrail trail;
    @Inject dev.anvil.api.auth.CurrentCaller caller;
    @Inject com.fasterxml.jackson.databind.ObjectMapper json;

    /** An endpoint with its versions and their artifacts; public: anyone may call inference on it. */
    public record EndpointView(String name, String model, VersionView stable, VersionView canary,
                               @com.fasterxml.jackson.annotation.JsonProperty(PUBLIC) boolean isPublic, String updatedAt) {
    }

    public record VersionView(int version, String artifact, Integer weight) {
    }

    /** One version's counters since the gateway started; latencies in milliseconds. */
    public record MetricsView(int version, String role, long requests, long errors, double errorRate, Double p50Ms,
                              Double p95Ms, Double p99Ms) {
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Operation(summary = "The gateway's endpoints, each with its stable version and canary")
    @APIResponse(responseCode = "200", description = "the endpoints")
    public List<EndpointView> list() {
        return gateway.routes().stream().map(EndpointResource::view).toList();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{name}")
    @Operation(summary = "One endpoint")
    @APIResponse(responseCode = "200", description = "the endpoint")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    public EndpointView get(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        return call(() -> view(routeOf(manager.find(name))));
    }

    @PUT
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Serve a model version under this name (role admin)", description = "Creates the endpoint or "
            + "points it at another stable version. Give {\"artifact\": sha256} (registered as the next version of model "
            + "`name`, or of `model`), {\"model\", \"version\"}, {\"model\", \"alias\"}, or {\"model\"} alone (its "
            + "production alias, else its newest version). \"public\": true lets anyone call inference on it without a "
            + "token; false (the default for a new endpoint) needs the role invoker; left out, it stays as it was. A new "
            + "stable version must also have the inputs and outputs the endpoint serves." + EVIDENCE)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = VersionChoice.class), examples = {
            @ExampleObject(name = "artifact", value = "{\"artifact\": \"<sha256 of an uploaded ONNX model>\"}"),
            @ExampleObject(name = "alias", value = "{\"model\": \"digits\", \"alias\": \"production\"}"),
            @ExampleObject(name = "public", value = "{\"model\": \"digits\", \"public\": true}"),
            @ExampleObject(name = "break glass", value = "{\"artifact\": \"<sha256>\", \"break_glass\": {\"reason\": "
                    + "\"first deployment, no pipeline yet\"}}")}))
    @APIResponse(responseCode = "201", description = "created")
    @APIResponse(responseCode = "200", description = "updated")
    @APIResponse(responseCode = "400", description = "a bad name, an unknown field, more than one of version, alias, "
            + "artifact, public not a boolean, or break_glass without a reason")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = REFUSED)
    @APIResponse(responseCode = "404", description = "no such model, version or alias in the registry")
    @APIResponse(responseCode = "409", description = "the version's inputs or outputs differ from what the endpoint"
            + " serves (the problem names both signatures)")
    @APIResponse(responseCode = "422", description = "the store refused the change (e.g. the artifact is not in artifacts)")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Response put(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name, Map<String, Object> body) {
        boolean existed = call(() -> {
            try {
                manager.find(name);
                return true;
            } catch (GatewayException e) {
                return false;
            }
        });
        VersionChoice choice = choice(body, PUT_FIELDS);
        Boolean isPublic = publicFlag(body);
        String breakGlass = breakGlass(body);
        // admitted and audited with the change itself (EndpointManager, EndpointStore), in the caller's name
        Endpoint endpoint = call(() -> manager.put(name, choice, isPublic, caller.name(), breakGlass));
        return Response.status(existed ? 200 : 201).entity(view(routeOf(endpoint))).build();
    }

    @DELETE
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}")
    @Operation(summary = "Stop serving the endpoint (role admin)", description = "Its sessions are unloaded.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "204", description = "deleted")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    public Response delete(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        if (!manager.delete(name)) {
            throw ProblemException.notFound("no endpoint named '" + name + "'");
        }
        trail.record("endpoint.deleted", "endpoint:" + name);
        return Response.noContent().build();
    }

    @PUT
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Set the endpoint's canary version and its traffic weight (role admin)",
            description = "The version is chosen as for PUT /api/endpoints/{name}, of the endpoint's model; weight is "
                    + "the canary's percentage of traffic (default 0). The version must have the inputs and outputs "
                    + "the endpoint serves." + EVIDENCE)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            examples = @ExampleObject(name = "version", value = "{\"model\": \"digits\", \"version\": 2, \"weight\": 10}")))
    @APIResponse(responseCode = "200", description = "the endpoint")
    @APIResponse(responseCode = "400", description = "an unknown field, a weight outside 0..100, a model other than the"
            + " endpoint's, or break_glass without a reason")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = REFUSED)
    @APIResponse(responseCode = "404", description = "no such endpoint, or no such version or alias")
    @APIResponse(responseCode = "409", description = "the version's inputs or outputs differ from what the endpoint"
            + " serves (the problem names both signatures)")
    @APIResponse(responseCode = "422", description = "the store refused the change (e.g. the artifact is not in artifacts)")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public EndpointView setCanary(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name, Map<String, Object> body) {
        Set<String> fields = new java.util.HashSet<>(VERSION_FIELDS);
        fields.add("weight");
        VersionChoice choice = choice(body, fields);
        int weight = body.containsKey("weight") ? weight(body) : 0;
        String breakGlass = breakGlass(body);
        return call(() -> view(routeOf(manager.setCanary(name, choice, weight, caller.name(), breakGlass))));
    }

    @POST
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary/weight")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Change the canary's percentage of traffic (role admin)", description = "Less weight needs"
            + " nothing; more weight for a canary set by hand needs its version's evidence." + EVIDENCE)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            examples = @ExampleObject(name = "weight", value = "{\"weight\": 25}")))
    @APIResponse(responseCode = "200", description = "the endpoint")
    @APIResponse(responseCode = "400", description = "no weight, a weight outside 0..100, an unknown field, or"
            + " break_glass without a reason")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = REFUSED)
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    @APIResponse(responseCode = "422", description = "the store refused the change (e.g. the endpoint has no canary)")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public EndpointView setWeight(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name, Map<String, Object> body) {
        if (body == null || !body.containsKey("weight")) {
            throw ProblemException.badRequest("weight", "send {\"weight\": 0..100}, the canary's percentage of traffic");
        }
        for (String key : body.keySet()) {
            if (!key.equals("weight") && !key.equals(BREAK_GLASS)) {
                throw ProblemException.badRequest(key, "unknown field '" + key + "', expected one of [break_glass, weight]");
            }
        }
        int weight = weight(body);
        String breakGlass = breakGlass(body);
        return call(() -> view(routeOf(manager.setWeight(name, weight, caller.name(), breakGlass))));
    }

    @DELETE
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary")
    @Operation(summary = "Remove the canary (role admin)", description = "All traffic goes to the stable version.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the endpoint")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    public EndpointView removeCanary(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        return call(() -> view(routeOf(manager.removeCanary(name, caller.name()))));
    }

    @POST
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary/promote")
    @Operation(summary = "Make the canary the stable version (role admin)", description = "The registry is not "
            + "changed; rollouts move the production alias. The body is optional." + EVIDENCE)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(
            name = "break glass", value = "{\"break_glass\": {\"reason\": \"the canary fixes the outage\"}}")))
    @APIResponse(responseCode = "200", description = "the endpoint")
    @APIResponse(responseCode = "400", description = "an unknown field, or break_glass without a reason")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = REFUSED)
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    @APIResponse(responseCode = "409", description = "the endpoint has no canary to promote")
    @APIResponse(responseCode = "422", description = "the canary changed while it was being promoted")
    public EndpointView promote(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name, String text) {
        // the body is optional, so a plain POST without a content type is read too
        Map<String, Object> body = optionalObject(text);
        if (body != null) {
            for (String key : body.keySet()) {
                if (!key.equals(BREAK_GLASS)) {
                    throw ProblemException.badRequest(key, "unknown field '" + key + "', expected [break_glass] or no body");
                }
            }
        }
        String breakGlass = body == null ? null : breakGlass(body);
        EndpointView view = call(() -> {
            Endpoint endpoint = manager.find(name);
            if (!endpoint.hasCanary()) {
                throw new GatewayException(409, null, "endpoint '" + name + "' has no canary to promote");
            }
            return view(routeOf(manager.promote(name, endpoint.canaryVersion(), caller.name(), breakGlass)));
        });
        return view;
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{name}/metrics")
    @Operation(summary = "Per-version request and error counts and latency percentiles",
            description = "Since this gateway process started; Prometheus gets the same at /q/metrics.")
    @APIResponse(responseCode = "200", description = "one entry per served version")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    public List<MetricsView> metrics(@Parameter(description = "the endpoint's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        return call(() -> {
            Gateway.Route route = gateway.route(name);
            EndpointCounts counts = gateway.counts(name);
            List<MetricsView> views = new ArrayList<>();
            for (Gateway.ServedVersion v : route.versions()) {
                VersionCounts c = counts.of(v.version());
                views.add(new MetricsView(v.version(), v == route.stable() ? "stable" : "canary", c.requests(), c.errors(),
                        c.errorRate(), ms(c, 0.5), ms(c, 0.95), ms(c, 0.99)));
            }
            return views;
        });
    }

    private Gateway.Route routeOf(Endpoint endpoint) {
        return gateway.routes().stream().filter(r -> r.endpoint().name().equals(endpoint.name())).findFirst()
                .orElseGet(() -> {
                    gateway.refresh();
                    return gateway.route(endpoint.name());
                });
    }

    private static EndpointView view(Gateway.Route r) {
        Endpoint e = r.endpoint();
        VersionView canary = r.canary() == null ? null
                : new VersionView(r.canary().version(), r.canary().sha256(), e.canaryWeight());
        return new EndpointView(e.name(), e.model(), new VersionView(r.stable().version(), r.stable().sha256(), null),
                canary, e.publicInference(), String.valueOf(e.updatedAt()));
    }

    private static Double ms(VersionCounts c, double q) {
        long micros = dev.anvil.workflows.rollout.LatencyBuckets.quantileMicros(c.latencyBuckets(), q);
        return micros < 0 ? null : micros / 1000.0;
    }

    private static VersionChoice choice(Map<String, Object> body, Set<String> allowed) {
        if (body == null) {
            throw ProblemException.badRequest(null, "send a JSON object naming the version: {\"artifact\": sha256},"
                    + " {\"model\", \"version\"} or {\"model\", \"alias\"}");
        }
        for (String key : body.keySet()) {
            if (!allowed.contains(key)) {
                throw ProblemException.badRequest(key, "unknown field '" + key + "', expected one of "
                        + new java.util.TreeSet<>(allowed));
            }
        }
        Object version = body.get("version");
        if (version != null && !(version instanceof Integer)) {
            throw ProblemException.badRequest("version", "version must be an integer, not " + version);
        }
        Object artifact = body.get("artifact");
        if (artifact != null && !(artifact instanceof String s && s.matches("[0-9a-f]{64}"))) {
            throw ProblemException.badRequest("artifact", "artifact must be the sha256 of an uploaded model"
                    + " (64 lower-case hex digits), not " + artifact);
        }
        return new VersionChoice(string(body, "model"), (Integer) version, string(body, "alias"), (String) artifact);
    }

    /** The "public" field: true, false, or null when it is left out (the endpoint keeps its setting). */
    private static Boolean publicFlag(Map<String, Object> body) {
        Object v = body.get(PUBLIC);
        if (v != null && !(v instanceof Boolean)) {
            throw ProblemException.badRequest(PUBLIC, "public must be true (anyone may call inference) or false"
                    + " (callers need the role invoker), not " + v);
        }
        return (Boolean) v;
    }

    /** A JSON object, or null for an empty body (or JSON null). */
    private Map<String, Object> optionalObject(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return json.readValue(text, new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() { });
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ProblemException.badRequest(null, "send no body, or a JSON object such as {\"break_glass\":"
                    + " {\"reason\": \"...\"}}");
        }
    }

    /**
     * An admin's reason to put a version on traffic without the evidence production needs
     * ({@code "break_glass": {"reason": "..."}}), or null when the body does not break glass.
     */
    private static String breakGlass(Map<String, Object> body) {
        Object value = body.get(BREAK_GLASS);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map<?, ?> map) || map.size() != 1 || !(map.get("reason") instanceof String reason)
                || reason.isBlank()) {
            throw ProblemException.badRequest(BREAK_GLASS, "break_glass must be {\"reason\": \"why this version may"
                    + " serve without the evidence production needs\"}");
        }
        return reason.strip();
    }

    private static String string(Map<String, Object> body, String key) {
        Object v = body.get(key);
        if (v != null && !(v instanceof String)) {
            throw ProblemException.badRequest(key, key + " must be a string, not " + v);
        }
        return (String) v;
    }

    private static int weight(Map<String, Object> body) {
        Object w = body.get("weight");
        if (!(w instanceof Integer i) || i < 0 || i > 100) {
            throw ProblemException.badRequest("weight", "weight must be an integer percentage 0..100, not " + w);
        }
        return i;
    }

    private static <T> T call(Supplier<T> work) {
        try {
            return work.get();
        } catch (GatewayException e) {
            throw Problems.of(e);
        }
    }

}
