package dev.anvil.api.pipelines;

import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflow;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.Schedule;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import io.smallrye.common.annotation.Blocking;
import io.temporal.client.WorkflowServiceException;
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
import java.net.URI;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
 * Pipelines: register a spec (each changed text is a new version), read them, and start runs. A
 * spec is validated in full before it is stored; every problem comes back at once, each naming the
 * task and field.
 */
@Path("/api/pipelines")
@Tag(name = "pipelines")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class PipelineResource {
    @Inject CurrentCaller caller;
    @Inject AuditTrail trail;
    static final OperatorRegistry OPERATORS = OperatorRegistry.builtIns();
    static final String NAME_PATTERN = "^[a-z0-9][a-z0-9_-]{0,62}$";
    private static final String SPEC_EXAMPLE = """
            name: digits-check
            description: inspect the digit classifier, wait a moment, report
            schedule: "@daily"
            params: {model: none}
            tasks:
              inspect: {operator: inspect, with: {model: "${params.model}"}}
              pause:   {operator: sleep, upstream: [inspect], with: {seconds: 1}}
              report:  {operator: noop, upstream: [pause], trigger_rule: all_done}
            """;

    /** @param cache false: no task of this run reuses earlier results (default true) */
    public record RunRequest(Map<String, Object> params, Boolean cache) {}

    @Inject PipelineStore pipelines;
    @Inject RunLauncher launcher;
    @Inject Schedules schedules;
    @Inject PipelinePausing pausing;

    @PUT
    @Path("/{name}")
    @Consumes({"application/yaml", "application/x-yaml", "text/yaml", MediaType.APPLICATION_JSON, MediaType.TEXT_PLAIN})
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Register a pipeline spec, YAML or JSON (role submitter or admin)", description = "A changed "
            + "text becomes a new version; the same text again changes nothing. The spec is validated in full before "
            + "it is stored, and every problem comes back at once.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = {
            @Content(mediaType = "application/yaml", schema = @Schema(ref = "/api/schemas/pipeline.json"),
                    examples = @ExampleObject(name = "digits-check", value = SPEC_EXAMPLE)),
            @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "/api/schemas/pipeline.json"))})
    @APIResponse(responseCode = "201", description = "a new version: name, version, tasks, schedule, spec")
    @APIResponse(responseCode = "200", description = "the same text was already registered")
    @APIResponse(responseCode = "400", description = "an empty body, or a spec named differently from the path")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "422", description = "the spec is invalid; errors[] names each problem by path "
            + "(e.g. tasks.quantize.upstream[0])")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Response register(@Parameter(description = "the pipeline's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name, String body) {
        if (body == null || body.isBlank()) {
            throw ProblemException.badRequest("body", "the body must be a pipeline spec in YAML or JSON (see /api/schemas/pipeline.json)");
        }
        PipelineSpec spec = load(body, java.util.Set.of());
        if (!spec.name().equals(name)) {
            throw ProblemException.badRequest("pipeline", "the spec is named '" + spec.name() + "' but was sent to /api/pipelines/"
                    + name + "; use the same name in both");
        }
        PipelineVersion before = pipelines.latest(name).orElse(null);
        PipelineVersion version = pipelines.register(name, body, caller.name());
        schedules.ensure(spec, version.paused());
        boolean created = before == null || before.version() != version.version();
        if (created) {
            trail.record("pipeline.registered", "pipeline:" + name, "version", version.version());
        }
        return Response.status(created ? 201 : 200).entity(view(version, spec)).build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Operation(summary = "Registered pipelines, the newest version of each")
    @APIResponse(responseCode = "200", description = "name, version, paused, registeredAt, registeredBy and spec of each")
    public List<Map<String, Object>> list() {
        return pipelines.listLatest().stream().map(v -> view(v, null)).toList();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{name}")
    @Operation(summary = "A pipeline's newest version, its tasks and the list of versions")
    @APIResponse(responseCode = "200", description = "the pipeline")
    @APIResponse(responseCode = "404", description = "no pipeline of this name")
    public Map<String, Object> get(@Parameter(description = "the pipeline's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        PipelineVersion latest = find(name);
        Map<String, Object> view = view(latest, load(latest.spec(), java.util.Set.of()));
        view.put("versions", pipelines.versions(name).stream().map(PipelineVersion::version).toList());
        return view;
    }

    @POST
    @Path("/{name}/runs")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Start a run of the newest version (role submitter or admin)",
            description = "params fill the spec's ${params.*}; cache=false makes every task run afresh instead of "
                    + "reusing an earlier result.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RunRequest.class),
            examples = @ExampleObject(name = "params", value = "{\"params\": {\"model\": \"<sha256>\"}, \"cache\": true}")))
    @APIResponse(responseCode = "201", description = "the run started (run, pipeline, version, status); Location is the run."
            + " With the pipeline's max_active_runs reached, the run stays queued and waiting says why; it starts when"
            + " an active run ends")
    @APIResponse(responseCode = "400", description = "the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no pipeline of this name")
    @APIResponse(responseCode = "422", description = "the params do not fit the spec; errors[] names each")
    @APIResponse(responseCode = "503", description = "Temporal did not accept the run")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Response startRun(@Parameter(description = "the pipeline's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name, RunRequest request) {
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
        trail.record("run.started", "run:" + started.runId(), "pipeline", name, "version", started.version(),
                "cache", request == null || request.cache() == null || request.cache());
        Map<String, Object> body = new java.util.LinkedHashMap<>(Map.of("run", started.runId(), "pipeline", name,
                "version", started.version(), "status", "queued"));
        if (started.waiting()) {
            body.put("waiting", "max_active_runs " + started.waitingFor() + " reached; the run starts when an active"
                    + " run of '" + name + "' ends");
        }
        return Response.created(URI.create("/api/runs/" + started.runId())).entity(body).build();
    }

    @POST
    @Path("/{name}/pause")
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Pause the pipeline's schedule (role submitter or admin)",
            description = "Runs started by hand still run.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "pipeline, paused, scheduled")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no pipeline of this name")
    public Map<String, Object> pause(@Parameter(description = "the pipeline's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        return setPaused(name, true);
    }

    @POST
    @Path("/{name}/unpause")
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Resume the pipeline's schedule (role submitter or admin)",
            description = "With catchup, missed ticks run first, oldest first.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "pipeline, paused, scheduled")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no pipeline of this name")
    public Map<String, Object> unpause(@Parameter(description = "the pipeline's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        return setPaused(name, false);
    }

    public record BackfillRequest(String from, String to) {}

    /** Runs every schedule tick in [from, to], oldest first, each with its logical date. */
    @POST
    @Path("/{name}/backfill")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Backfill: run every schedule tick in [from, to] (role submitter or admin)",
            description = "Oldest first, each with its logical date. The caller is the requester of every run it "
                    + "starts, so the four-eyes rule keeps them from approving those runs.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = BackfillRequest.class), examples = @ExampleObject(name = "january",
            value = "{\"from\": \"2026-01-01T00:00:00Z\", \"to\": \"2026-01-31T00:00:00Z\"}")))
    @APIResponse(responseCode = "202", description = "the ticks are queued on the scheduler: pipeline, from, to")
    @APIResponse(responseCode = "400", description = "from or to missing or not an ISO-8601 instant, or to before from")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no pipeline of this name")
    @APIResponse(responseCode = "409", description = "the pipeline has no schedule")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    @APIResponse(responseCode = "422", description = "the range holds more than "
            + PipelineScheduleWorkflow.MAX_BACKFILL_RUNS + " ticks of the schedule")
    public Response backfill(@Parameter(description = "the pipeline's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name, BackfillRequest request) {
        PipelineVersion latest = find(name);
        if (request == null || request.from() == null || request.to() == null) {
            throw ProblemException.badRequest("from", "the body must give the range: {\"from\": \"2026-01-01T00:00:00Z\", \"to\": \"2026-01-31T00:00:00Z\"}");
        }
        Instant from = instant("from", request.from());
        Instant to = instant("to", request.to());
        if (to.isBefore(from)) {
            throw ProblemException.badRequest("to", "'to' (" + to + ") is before 'from' (" + from + ")");
        }
        PipelineSpec spec = load(latest.spec(), java.util.Set.of());
        spec.schedule().flatMap(Schedule::fireTimes).ifPresent(times -> requireWithinCap(times, from, to));
        if (!schedules.backfill(name, from.toEpochMilli(), to.toEpochMilli(), caller.name())) {
            throw noSchedule(name);
        }
        trail.record("pipeline.backfilled", "pipeline:" + name, "from", from.toString(), "to", to.toString());
        return Response.accepted(Map.of("pipeline", name, "from", from.toString(), "to", to.toString())).build();
    }

    @DELETE
    @Path("/{name}/backfill")
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Cancel a backfill: drop its queued ticks (role submitter or admin)",
            description = "Ticks not yet started are dropped (trigger-now ones too); runs already started go on.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "pipeline, and dropped: how many queued ticks were dropped")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no pipeline of this name")
    @APIResponse(responseCode = "409", description = "the pipeline has no schedule")
    public Map<String, Object> cancelBackfill(@Parameter(description = "the pipeline's name", schema = @Schema(type = SchemaType.STRING, pattern = NAME_PATTERN)) @PathParam("name") String name) {
        find(name);
        int dropped = schedules.cancelBackfill(name).orElseThrow(() -> noSchedule(name));
        return Map.of("pipeline", name, "dropped", dropped);
    }

    /** Refuses, before anything is queued, a range with more ticks than one backfill may run. */
    private static void requireWithinCap(Schedule.FireTimes times, Instant from, Instant to) {
        int cap = PipelineScheduleWorkflow.MAX_BACKFILL_RUNS;
        if (times.countBetween(from, to, cap, ZoneOffset.UTC) <= cap) {
            return;
        }
        // counting every tick of a decades-long range would itself be the slow request: extrapolate
        Instant last = from.minusMillis(1);
        for (int i = 0; i <= cap; i++) {
            last = times.nextAfter(last, ZoneOffset.UTC).orElseThrow();
        }
        double spanOfCap = Math.max(1, last.toEpochMilli() - from.toEpochMilli() + 1);
        long estimate = Math.round((cap + 1) * ((to.toEpochMilli() - from.toEpochMilli() + 1) / spanOfCap));
        String detail = "the range " + from + " to " + to + " would make about " + estimate + " runs; a backfill makes at most "
                + cap + "; split it into shorter ranges";
        throw ProblemException.unprocessable("to", detail);
    }

    private static ProblemException noSchedule(String name) {
        return new ProblemException(409, "Conflict", "pipeline '" + name
                + "' has no schedule to backfill; add a schedule to its spec", List.of());
    }

    private Map<String, Object> setPaused(String name, boolean paused) {
        find(name);
        boolean scheduled = pausing.setPaused(name, paused);
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
        view.put("registeredBy", v.registeredBy());
        if (spec != null) {
            view.put("description", spec.description());
            view.put("schedule", spec.schedule().map(s -> s.expression()).orElse(null));
            view.put("tasks", List.copyOf(spec.tasks().keySet()));
        }
        view.put("spec", v.spec());
        return view;
    }

}
