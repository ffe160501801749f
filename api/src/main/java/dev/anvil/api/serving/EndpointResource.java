package dev.anvil.api.serving;

import dev.anvil.activities.rollout.EndpointManager;
import dev.anvil.activities.rollout.EndpointManager.VersionChoice;
import dev.anvil.activities.rollout.Gateway;
import dev.anvil.activities.rollout.GatewayException;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Endpoint;
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

/** Managing the gateway's endpoints: which model version each serves, and its canary. */
@Path("/api/endpoints")
@Produces(MediaType.APPLICATION_JSON)
public class EndpointResource {
    private static final Set<String> VERSION_FIELDS = Set.of("model", "version", "alias", "artifact");

    @Inject EndpointManager manager;
    @Inject Gateway gateway;

    /** An endpoint with its versions and their artifacts. */
    public record EndpointView(String name, String model, VersionView stable, VersionView canary, String updatedAt) {
    }

    public record VersionView(int version, String artifact, Integer weight) {
    }

    /** One version's counters since the gateway started; latencies in milliseconds. */
    public record MetricsView(int version, String role, long requests, long errors, double errorRate, Double p50Ms,
                              Double p95Ms, Double p99Ms) {
    }

    @GET
    public List<EndpointView> list() {
        return gateway.routes().stream().map(EndpointResource::view).toList();
    }

    @GET
    @Path("/{name}")
    public EndpointView get(@PathParam("name") String name) {
        return call(() -> view(routeOf(manager.find(name))));
    }

    @PUT
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response put(@PathParam("name") String name, Map<String, Object> body) {
        boolean existed = call(() -> {
            try {
                manager.find(name);
                return true;
            } catch (GatewayException e) {
                return false;
            }
        });
        VersionChoice choice = choice(body, VERSION_FIELDS);
        Endpoint endpoint = call(() -> manager.put(name, choice));
        return Response.status(existed ? 200 : 201).entity(view(routeOf(endpoint))).build();
    }

    @DELETE
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}")
    public Response delete(@PathParam("name") String name) {
        if (!manager.delete(name)) {
            throw ProblemException.notFound("no endpoint named '" + name + "'");
        }
        return Response.noContent().build();
    }

    @PUT
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary")
    @Consumes(MediaType.APPLICATION_JSON)
    public EndpointView setCanary(@PathParam("name") String name, Map<String, Object> body) {
        Set<String> fields = new java.util.HashSet<>(VERSION_FIELDS);
        fields.add("weight");
        VersionChoice choice = choice(body, fields);
        int weight = body.containsKey("weight") ? weight(body) : 0;
        return call(() -> view(routeOf(manager.setCanary(name, choice, weight))));
    }

    @POST
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary/weight")
    @Consumes(MediaType.APPLICATION_JSON)
    public EndpointView setWeight(@PathParam("name") String name, Map<String, Object> body) {
        if (body == null || !body.containsKey("weight")) {
            throw ProblemException.badRequest("weight", "send {\"weight\": 0..100}, the canary's percentage of traffic");
        }
        return call(() -> view(routeOf(manager.setWeight(name, weight(body)))));
    }

    @DELETE
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary")
    public EndpointView removeCanary(@PathParam("name") String name) {
        return call(() -> view(routeOf(manager.removeCanary(name))));
    }

    @POST
    @RolesAllowed(Roles.ADMIN)
    @Path("/{name}/canary/promote")
    public EndpointView promote(@PathParam("name") String name) {
        return call(() -> {
            Endpoint endpoint = manager.find(name);
            if (!endpoint.hasCanary()) {
                throw new GatewayException(409, null, "endpoint '" + name + "' has no canary to promote");
            }
            return view(routeOf(manager.promote(name, endpoint.canaryVersion())));
        });
    }

    @GET
    @Path("/{name}/metrics")
    public List<MetricsView> metrics(@PathParam("name") String name) {
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
                canary, String.valueOf(e.updatedAt()));
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
