package dev.anvil.api.runs;

import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.spec.SpecException;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Runs as PostgreSQL records them: listing never depends on Temporal's visibility APIs. */
@Path("/api/runs")
@Tag(name = "runs")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RunResource {
    @Inject CurrentCaller caller;
    @Inject AuditTrail trail;
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject RunLauncher launcher;
    @Inject RunCancellation cancellation;
    @Inject dev.anvil.db.TriggerEventStore triggerEvents;
    @Inject dev.anvil.db.RunAdmissionStore admissions;

    /** Newest first; {@code state} is accepted as an alias of {@code status}, as in Airflow. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Operation(summary = "Runs, newest first, a page at a time", description = "Read from PostgreSQL, never from "
            + "Temporal's visibility APIs.")
    @APIResponse(responseCode = "200", description = "the runs")
    @APIResponse(responseCode = "400", description = "unknown status, limit outside 1..1000, or a negative page")
    public List<RunListItem> list(@Parameter(description = "only runs of this pipeline") @QueryParam("pipeline") String pipeline,
                                  @Parameter(description = "only runs in this status", schema = @Schema(enumeration = {
                                          "queued", "running", "success", "failed", "cancelled"}))
                                  @QueryParam("status") String status,
                                  @Parameter(description = "alias of status, as in Airflow") @QueryParam("state") String state,
                                  @Parameter(description = "runs per page (1..1000)") @QueryParam("limit") @DefaultValue("50") int limit,
                                  @Parameter(description = "page number, from 0") @QueryParam("page") @DefaultValue("0") int page) {
        String wanted = status != null ? status : state;
        if (wanted != null && !PipelineRun.STATUSES.contains(wanted)) {
            throw ProblemException.badRequest(status != null ? "status" : "state",
                    "unknown run status '" + wanted + "'; expected one of " + PipelineRun.STATUSES);
        }
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        if (page < 0) {
            throw ProblemException.badRequest("page", "'page' counts from 0, got " + page);
        }
        List<PipelineRun> page0 = runs.list(pipeline, wanted, limit, page * limit);
        java.util.Map<String, dev.anvil.db.RunAdmissionStore.Waiting> waiting =
                page0.stream().anyMatch(r -> r.status().equals("queued")) ? admissions.waiting() : Map.of();
        return page0.stream().map(r -> new RunListItem(r,
                RunWaiting.brief(r, java.util.Optional.ofNullable(waiting.get(r.id()))))).toList();
    }

    /**
     * A run in the list: the run's fields, and {@code waiting} (null unless the run is queued behind its pipeline's
     * max_active_runs: "waiting for a slot (max_active_runs N)"; GET /api/runs/{id} says it in full).
     */
    public record RunListItem(@com.fasterxml.jackson.annotation.JsonUnwrapped PipelineRun run,
                              @Schema(description = "why a queued run has not started, or null", nullable = true,
                                      example = "waiting for a slot (max_active_runs 1)") String waiting) {
    }

    public record RetryRequest(String from) {}

    /**
     * Retries a failed or cancelled run, like Airflow's "clear": the failed tasks (or {@code from} and
     * everything downstream of it) run again as new attempts of the same run; successful tasks keep
     * their outputs.
     */
    @POST
    @Path("/{id}/retry")
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Retry a failed or cancelled run (role submitter or admin)", description = "Airflow's clear: "
            + "the tasks that did not succeed (or from and everything downstream of it) run again as new attempts of "
            + "the same run; successful tasks keep their outputs.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RetryRequest.class),
            examples = @ExampleObject(name = "from", value = "{\"from\": \"quantize\"}")))
    @APIResponse(responseCode = "202", description = "the retry started: run, status, from; Location is the run. Under "
            + "the pipeline's max_active_runs, a retry that finds it reached waits for a slot like a new run (Airflow's "
            + "clear), and the answer says so in waiting")
    @APIResponse(responseCode = "400", description = "from names no task of the run, or the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no run with this id")
    @APIResponse(responseCode = "409", description = "the run is not failed or cancelled")
    @APIResponse(responseCode = "422", description = "the run's spec no longer validates")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Response retry(@Parameter(description = "the run's id", example = "digits-check-8daf0c2e-5b1d-4c0a-9e7f-2a6b3c4d5e6f") @PathParam("id") String id, RetryRequest request) {
        PipelineRun run = runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        String from = request == null ? null : request.from();
        RunLauncher.Started started;
        try {
            started = launcher.retry(id, from);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("from", e.getMessage());
        } catch (IllegalStateException e) {
            throw new ProblemException(409, "Conflict", e.getMessage(), List.of());
        } catch (SpecException e) {
            throw new ProblemException(422, "Invalid pipeline spec", "the run's spec no longer validates: "
                    + e.getMessage(), List.of());
        }
        trail.record("run.retried", "run:" + id, "from", from);
        Map<String, Object> body = new java.util.LinkedHashMap<>(Map.of("run", id, "status", "queued",
                "from", from == null ? "failed tasks" : from));
        if (started.waiting()) {
            body.put("waiting", "max_active_runs " + started.waitingFor() + " reached; the retry starts when an active"
                    + " run of '" + run.pipeline() + "' ends");
        }
        return Response.accepted(body).location(java.net.URI.create("/api/runs/" + id)).build();
    }

    /** Cancels a run: running tasks are cancelled (recorded failed), tasks not yet started skipped. */
    @POST
    @Path("/{id}/cancel")
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Cancel a run (role submitter or admin)", description = "Running tasks are cancelled and "
            + "recorded failed; tasks not started are skipped.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "202", description = "cancelling")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no run with this id")
    @APIResponse(responseCode = "409", description = "the run already ended, or its workflow no longer exists")
    public Response cancel(@Parameter(description = "the run's id", example = "digits-check-8daf0c2e-5b1d-4c0a-9e7f-2a6b3c4d5e6f") @PathParam("id") String id) {
        cancellation.cancel(id);
        return Response.accepted(Map.of("run", id, "status", "cancelling")).build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{id}")
    @Operation(summary = "One run with its task runs", description = "Every task attempt: status, timings, "
            + "parameters, metrics, errors; and what started the run (trigger.kind: manual, schedule, drift or dataset,"
            + " with the event for the last two); waiting says why a queued run has not started (its pipeline's"
            + " max_active_runs reached), null otherwise.")
    @APIResponse(responseCode = "200", description = "run and tasks", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RunWithTasks.class)))
    @APIResponse(responseCode = "404", description = "no run with this id")
    public RunWithTasks get(@Parameter(description = "the run's id", example = "digits-check-8daf0c2e-5b1d-4c0a-9e7f-2a6b3c4d5e6f") @PathParam("id") String id) {
        PipelineRun run = runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        List<TaskRun> tasks = taskRuns.listByRun(id);
        String waiting = RunWaiting.reason(run, admissions.find(id));
        return new RunWithTasks(run, tasks, trigger(run), waiting);
    }

    /** What started the run: the event (drift, dataset) recorded for it, else its schedule tick or a person. */
    private Map<String, Object> trigger(PipelineRun run) {
        Map<String, Object> t = new java.util.LinkedHashMap<>();
        java.util.Optional<dev.anvil.db.TriggerEvent> event = triggerEvents.findByRun(run.id());
        if (event.isPresent()) {
            dev.anvil.db.TriggerEvent e = event.get();
            t.put("kind", e.kind());
            t.put("subject", e.subject());
            t.put("event", e.eventKey());
            t.put("at", e.createdAt());
            return t;
        }
        t.put("kind", run.id().startsWith(run.pipeline() + "-scheduled-") ? "schedule" : "manual");
        return t;
    }

    /**
     * A run, every attempt of each of its tasks (oldest first), what started it ({@code kind}: manual,
     * schedule, drift or dataset; {@code subject}, {@code event} and {@code at} for the last two), and, for a
     * queued run held back by its pipeline's {@code max_active_runs}, why it waits (null otherwise).
     */
    public record RunWithTasks(PipelineRun run, List<TaskRun> tasks, Map<String, Object> trigger, String waiting) {
    }
}
