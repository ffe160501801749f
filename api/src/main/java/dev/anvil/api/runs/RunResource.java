package dev.anvil.api.runs;

import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.spec.SpecException;
import io.smallrye.common.annotation.Blocking;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
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

/** Runs as PostgreSQL records them: listing never depends on Temporal's visibility APIs. */
@Path("/api/runs")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RunResource {
    @Inject CurrentCaller caller;
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject WorkflowClient client;
    @Inject RunLauncher launcher;

    /** Newest first; {@code state} is accepted as an alias of {@code status}, as in Airflow. */
    @GET
    public List<PipelineRun> list(@QueryParam("pipeline") String pipeline, @QueryParam("status") String status,
                                  @QueryParam("state") String state,
                                  @QueryParam("limit") @DefaultValue("50") int limit,
                                  @QueryParam("page") @DefaultValue("0") int page) {
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
        return runs.list(pipeline, wanted, limit, page * limit);
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
    public Response retry(@PathParam("id") String id, RetryRequest request) {
        runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        String from = request == null ? null : request.from();
        try {
            launcher.retry(id, from);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("from", e.getMessage());
        } catch (IllegalStateException e) {
            throw new ProblemException(409, "Conflict", e.getMessage(), List.of());
        } catch (SpecException e) {
            throw new ProblemException(422, "Invalid pipeline spec", "the run's spec no longer validates: "
                    + e.getMessage(), List.of());
        }
        return Response.accepted(Map.of("run", id, "status", "queued", "from", from == null ? "failed tasks" : from))
                .location(java.net.URI.create("/api/runs/" + id)).build();
    }

    /** Cancels a run: running tasks are cancelled (recorded failed), tasks not yet started skipped. */
    @POST
    @Path("/{id}/cancel")
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Response cancel(@PathParam("id") String id) {
        PipelineRun run = runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        if (run.isTerminal()) {
            throw new ProblemException(409, "Conflict", "run '" + id + "' already ended as " + run.status()
                    + "; only queued or running runs can be cancelled", List.of());
        }
        try {
            client.newUntypedWorkflowStub(id).cancel();
        } catch (WorkflowNotFoundException e) {
            runs.markFailed(id, "the workflow behind this run no longer exists; retry the run");
            throw new ProblemException(409, "Conflict", "run '" + id + "' has no workflow any more; it was marked failed",
                    List.of());
        }
        return Response.accepted(Map.of("run", id, "status", "cancelling")).build();
    }

    @GET
    @Path("/{id}")
    public Map<String, Object> get(@PathParam("id") String id) {
        PipelineRun run = runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        List<TaskRun> tasks = taskRuns.listByRun(id);
        return Map.of("run", run, "tasks", tasks);
    }
}
