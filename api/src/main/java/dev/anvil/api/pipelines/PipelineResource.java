package dev.anvil.api.pipelines;

import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import io.smallrye.common.annotation.Blocking;
import io.temporal.client.WorkflowServiceException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Pipelines: register a spec (each changed text is a new version), read them, and start runs. A
 * spec is validated in full before it is stored; every problem comes back at once, each naming the
 * task and field.
 */
@Path("/api/pipelines")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class PipelineResource {
    @Inject CurrentCaller caller;
    static final OperatorRegistry OPERATORS = OperatorRegistry.builtIns();

    /** @param cache false: no task of this run reuses earlier results (default true) */
    public record RunRequest(Map<String, Object> params, Boolean cache) {}

    @Inject PipelineStore pipelines;
    @Inject RunLauncher launcher;
    @Inject Schedules schedules;

    @PUT
    @Path("/{name}")
    @Consumes({"application/yaml", "application/x-yaml", "text/yaml", MediaType.APPLICATION_JSON, MediaType.TEXT_PLAIN})
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Response register(@PathParam("name") String name, String body) {
        if (body == null || body.isBlank()) {
            throw ProblemException.badRequest("body", "the body must be a pipeline spec in YAML or JSON (see /api/schemas/pipeline.json)");
        }
        PipelineSpec spec = load(body, java.util.Set.of());
        if (!spec.name().equals(name)) {
            throw ProblemException.badRequest("pipeline", "the spec is named '" + spec.name() + "' but was sent to /api/pipelines/"
                    + name + "; use the same name in both");
        }
        PipelineVersion before = pipelines.latest(name).orElse(null);
        PipelineVersion version = pipelines.register(name, body);
        schedules.ensure(spec, version.paused());
        boolean created = before == null || before.version() != version.version();
        return Response.status(created ? 201 : 200).entity(view(version, spec)).build();
    }

    @GET
    public List<Map<String, Object>> list() {
        return pipelines.listLatest().stream().map(v -> view(v, null)).toList();
    }

    @GET
    @Path("/{name}")
    public Map<String, Object> get(@PathParam("name") String name) {
        PipelineVersion latest = find(name);
        Map<String, Object> view = view(latest, load(latest.spec(), java.util.Set.of()));
        view.put("versions", pipelines.versions(name).stream().map(PipelineVersion::version).toList());
        return view;
    }

    @POST
    @Path("/{name}/runs")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Response startRun(@PathParam("name") String name, RunRequest request) {
        find(name);
        Map<String, Object> params = request == null || request.params() == null ? Map.of() : request.params();
        RunLauncher.Started started;
        try {
            boolean cache = request == null || request.cache() == null || request.cache();
            started = launcher.start(name, name + "-" + UUID.randomUUID(), params, caller.name(), null, cache);
        } catch (SpecException e) {
            throw invalid(e);
        } catch (WorkflowServiceException e) {
            throw new ProblemException(503, "Service unavailable",
                    "Temporal did not accept the run (" + e.getMessage() + "); check /q/health/ready and retry", List.of());
        }
        return Response.created(URI.create("/api/runs/" + started.runId()))
                .entity(Map.of("run", started.runId(), "pipeline", name, "version", started.version(), "status", "queued"))
                .build();
    }

    @POST
    @Path("/{name}/pause")
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Map<String, Object> pause(@PathParam("name") String name) {
        return setPaused(name, true);
    }

    @POST
    @Path("/{name}/unpause")
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Map<String, Object> unpause(@PathParam("name") String name) {
        return setPaused(name, false);
    }

    public record BackfillRequest(String from, String to) {}

    /** Runs every schedule tick in [from, to], oldest first, each with its logical date. */
    @POST
    @Path("/{name}/backfill")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Response backfill(@PathParam("name") String name, BackfillRequest request) {
        find(name);
        if (request == null || request.from() == null || request.to() == null) {
            throw ProblemException.badRequest("from", "the body must give the range: {\"from\": \"2026-01-01T00:00:00Z\", \"to\": \"2026-01-31T00:00:00Z\"}");
        }
        Instant from = instant("from", request.from());
        Instant to = instant("to", request.to());
        if (to.isBefore(from)) {
            throw ProblemException.badRequest("to", "'to' (" + to + ") is before 'from' (" + from + ")");
        }
        if (!schedules.backfill(name, from.toEpochMilli(), to.toEpochMilli())) {
            throw new ProblemException(409, "Conflict", "pipeline '" + name
                    + "' has no schedule to backfill; add a schedule to its spec", List.of());
        }
        return Response.accepted(Map.of("pipeline", name, "from", from.toString(), "to", to.toString())).build();
    }

    private Map<String, Object> setPaused(String name, boolean paused) {
        find(name);
        pipelines.setPaused(name, paused);
        boolean scheduled = schedules.pause(name, paused);
        return Map.of("pipeline", name, "paused", paused, "scheduled", scheduled);
    }

    private static Instant instant(String field, String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest(field, "'" + field + "' must be an ISO-8601 instant such as 2026-01-01T00:00:00Z, got '" + value + "'");
        }
    }

    private PipelineVersion find(String name) {
        return pipelines.latest(name).orElseThrow(() -> ProblemException.notFound(
                "no pipeline named '" + name + "'; register it with PUT /api/pipelines/" + name));
    }

    private static PipelineSpec load(String text, java.util.Set<String> runtimeParams) {
        try {
            return SpecLoader.load(text, OPERATORS, runtimeParams);
        } catch (SpecException e) {
            throw invalid(e);
        }
    }

    private static ProblemException invalid(SpecException e) {
        List<Problem.FieldError> errors = e.errors().stream()
                .map(err -> new Problem.FieldError(err.path(), err.message())).toList();
        return new ProblemException(422, "Invalid pipeline spec", errors.size() + " problem(s) in the spec: "
                + errors.get(0).field() + ": " + errors.get(0).message()
                + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more in 'errors')" : ""), errors);
    }

    private static Map<String, Object> view(PipelineVersion v, PipelineSpec spec) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", v.pipeline());
        view.put("version", v.version());
        view.put("paused", v.paused());
        view.put("registeredAt", v.createdAt().toString());
        if (spec != null) {
            view.put("description", spec.description());
            view.put("schedule", spec.schedule().map(s -> s.expression()).orElse(null));
            view.put("tasks", List.copyOf(spec.tasks().keySet()));
        }
        view.put("spec", v.spec());
        return view;
    }

}
