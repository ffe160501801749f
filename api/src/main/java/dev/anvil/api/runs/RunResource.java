package dev.anvil.api.runs;

import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;

/** Runs as PostgreSQL records them: listing never depends on Temporal's visibility APIs. */
@Path("/api/runs")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RunResource {
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;

    @GET
    public List<PipelineRun> list(@QueryParam("status") String status, @QueryParam("limit") @DefaultValue("50") int limit) {
        if (status != null && !PipelineRun.STATUSES.contains(status)) {
            throw ProblemException.badRequest("status", "unknown run status '" + status + "'; expected one of " + PipelineRun.STATUSES);
        }
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        return runs.list(status, limit);
    }

    @GET
    @Path("/{id}")
    public Map<String, Object> get(@PathParam("id") String id) {
        PipelineRun run = runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        List<TaskRun> tasks = taskRuns.listByRun(id);
        return Map.of("run", run, "tasks", tasks);
    }
}
