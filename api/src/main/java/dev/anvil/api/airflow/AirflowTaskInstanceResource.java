package dev.anvil.api.airflow;

import dev.anvil.api.auth.Roles;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Airflow's task instances: each task of a run at its newest attempt (try_number is the attempt; a task not
 * started yet has state null and try_number 0), with its log per try and its outputs as XCom entries.
 */
@Path("/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AirflowTaskInstanceResource {
    static final List<String> TI_STATES = List.of("removed", "scheduled", "queued", "running", "success",
            "restarting", "failed", "up_for_retry", "up_for_reschedule", "upstream_failed", "skipped", "deferred",
            "none");
    private static final Set<String> TI_ORDER = Set.of("id", "task_id", "dag_id", "dag_run_id", "map_index",
            "logical_date", "run_after", "start_date", "end_date", "duration", "state", "try_number", "max_tries",
            "task_display_name", "pool", "queue", "priority_weight", "operator");
    private static final Set<String> XCOM_ORDER = Set.of("key", "timestamp", "task_id", "dag_id", "run_id", "map_index");
    static final String NDJSON = "application/x-ndjson";

    @Inject PipelineStore pipelines;
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject dev.anvil.storage.ObjectStore objects;
    @Context UriInfo uri;

    /** One run with what its task instances need. */
    private record RunTasks(PipelineRun run, PipelineVersion version, Optional<PipelineSpec> spec,
                            List<TaskRun> attempts) {
        Map<String, TaskRun> latest() {
            return AirflowViews.latestAttempts(spec, attempts);
        }

        Map<String, Object> instance(String taskId) {
            return AirflowViews.taskInstance(run, version, spec, taskId, latest().get(taskId));
        }
    }

    private List<RunTasks> runs(String dagId, String runId) {
        List<PipelineRun> selected;
        if (runId.equals(AirflowDagRunResource.ALL)) {
            if (!dagId.equals(AirflowDagRunResource.ALL)) {
                AirflowDagResource.find(pipelines, dagId);
            }
            selected = runs.list(dagId.equals(AirflowDagRunResource.ALL) ? null : dagId, null, Integer.MAX_VALUE, 0);
        } else {
            selected = List.of(findRun(dagId, runId));
        }
        Map<String, PipelineVersion> versions = new LinkedHashMap<>();
        Map<String, Optional<PipelineSpec>> specs = new LinkedHashMap<>();
        List<RunTasks> out = new ArrayList<>();
        for (PipelineRun r : selected) {
            PipelineVersion v = r.pipelineVersion() == null ? null : versions.computeIfAbsent(
                    r.pipeline() + "@" + r.pipelineVersion(), k -> pipelines.find(r.pipeline(), r.pipelineVersion()).orElse(null));
            Optional<PipelineSpec> spec = v == null ? Optional.empty()
                    : specs.computeIfAbsent(v.pipeline() + "@" + v.version(), k -> AirflowViews.load(v));
            out.add(new RunTasks(r, v, spec, taskRuns.listByRun(r.id())));
        }
        return out;
    }

    private PipelineRun findRun(String dagId, String runId) {
        if (!dagId.equals(AirflowDagRunResource.ALL)) {
            AirflowDagResource.find(pipelines, dagId);
        }
        return runs.find(runId).filter(r -> dagId.equals(AirflowDagRunResource.ALL) || r.pipeline().equals(dagId))
                .orElseThrow(() -> AirflowException.notFound("The DagRun with dag_id: `" + dagId + "` and run_id: `"
                        + runId + "` was not found"));
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> list(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId) {
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        q.anyOf("task_id", "task_id").anyOf("state", "state", TI_STATES).anyOf("pool", "pool").anyOf("queue", "queue")
                .anyOf("executor", "executor").anyOf("operator", "operator").anyOf("try_number", "try_number")
                .like("task_display_name_pattern", "task_display_name");
        List<String> versionNumbers = q.all("version_number");
        if (!versionNumbers.isEmpty()) {
            q.where(ti -> ti.get("dag_version") instanceof Map<?, ?> v
                    && versionNumbers.contains(String.valueOf(v.get("version_number"))));
        }
        for (String field : List.of("run_after", "logical_date", "start_date", "end_date", "duration", "updated_at")) {
            q.range(field);
        }
        List<Map<String, Object>> items = new ArrayList<>();
        for (RunTasks rt : runs(dagId, runId)) {
            Map<String, TaskRun> latest = rt.latest();
            latest.forEach((task, attempt) -> items.add(AirflowViews.taskInstance(rt.run(), rt.version(), rt.spec(), task, attempt)));
        }
        return q.collection("task_instances", items, "map_index", TI_ORDER, 50);
    }

    @GET
    @Path("/{task_id}")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> get(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId,
                                   @PathParam("task_id") String taskId) {
        RunTasks rt = runs(dagId, runId).get(0);
        if (!rt.latest().containsKey(taskId)) {
            throw AirflowException.notFound("The Task Instance with dag_id: `" + dagId + "`, run_id: `" + runId
                    + "`, task_id: `" + taskId + "` and map_index: `-1` was not found");
        }
        return rt.instance(taskId);
    }

    /**
     * A try's log: the lines its worker captured (the operator's own, a command's stdout and stderr) when the try
     * kept a log; otherwise what Anvil recorded of the attempt (its start, parameters, outputs or error, its end),
     * each with its time, and the first line says so.
     */
    @GET
    @Path("/{task_id}/logs/{try_number}")
    @Produces({MediaType.APPLICATION_JSON, NDJSON})
    @RolesAllowed(Roles.VIEWER)
    public Response logs(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId,
                         @PathParam("task_id") String taskId, @PathParam("try_number") String tryText,
                         @HeaderParam("Accept") String accept) {
        int tryNumber;
        try {
            tryNumber = Integer.parseInt(tryText);
        } catch (NumberFormatException e) {
            throw AirflowException.invalid("int_parsing", "Input should be a valid integer, unable to parse string as"
                    + " an integer", "path", "try_number");
        }
        if (tryNumber < 0) {
            throw AirflowException.invalid("greater_than_equal", "Input should be greater than or equal to 0", "path",
                    "try_number");
        }
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        boolean fullContent = Boolean.TRUE.equals(q.bool("full_content"));
        q.integer("map_index", -1, -1);
        q.errors().throwIfAny();
        String token = q.one("token");
        RunTasks rt = runs(dagId, runId).get(0);
        TaskRun attempt = rt.attempts().stream().filter(t -> t.taskId().equals(taskId) && t.attempt() == tryNumber)
                .findFirst().orElse(null);
        if (attempt == null) {
            if (!rt.latest().containsKey(taskId)) {
                throw AirflowException.notFound("TaskInstance not found: task " + taskId + " of run " + runId);
            }
            throw AirflowException.notFound("Task " + taskId + " of run " + runId + " has no try " + tryNumber
                    + "; its tries are 1.." + rt.attempts().stream().filter(t -> t.taskId().equals(taskId))
                    .mapToInt(TaskRun::attempt).max().orElse(0));
        }
        String run = rt.run().id();
        if (accept != null && accept.contains(NDJSON) && !accept.contains(MediaType.APPLICATION_JSON)) {
            // the stream is the whole log, as Airflow streams it; a token has no say
            StringBuilder out = new StringBuilder();
            for (Map<String, Object> line : read(run, taskId, attempt, 0, true).lines()) {
                out.append(AirflowLogs.toJson(line)).append('\n');
            }
            return Response.ok(out.toString(), NDJSON).build();
        }
        // full_content: the whole log from its first line, whatever the token says; otherwise from where the
        // token's read ended (from the start without one)
        AirflowLogToken from = token == null || token.isEmpty() ? null
                : AirflowLogToken.decode(token, run, taskId, tryNumber);
        AirflowLogs.Chunk chunk = read(run, taskId, attempt, fullContent || from == null ? 0 : from.position(),
                from == null || fullContent || from.captured());
        boolean ended = attempt.finishedAt() != null;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("content", chunk.lines());
        // a token while more may come (the try runs); none once the try ended and its log was read to the end
        body.put("continuation_token", ended ? null
                : new AirflowLogToken(run, taskId, tryNumber, chunk.captured(), chunk.end()).encode());
        return Response.ok(body, MediaType.APPLICATION_JSON).build();
    }

    /**
     * The try's captured log from a byte offset on, or, when it kept none, what Anvil recorded of the attempt (from a
     * line on). A position meant for the other kind (the try kept no log when the token was made, and has one now)
     * starts at the beginning of what there is.
     */
    private AirflowLogs.Chunk read(String run, String taskId, TaskRun attempt, long position, boolean positionIsCaptured) {
        return AirflowLogs.captured(objects, run, taskId, attempt.attempt(), positionIsCaptured ? position : 0)
                .orElseGet(() -> AirflowLogs.recorded(attempt, positionIsCaptured ? 0 : position));
    }

    @GET
    @Path("/{task_id}/xcomEntries")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> xcomEntries(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId,
                                           @PathParam("task_id") String taskId) {
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        q.anyOf("xcom_key", "key").like("xcom_key_pattern", "key").like("dag_display_name_pattern", "dag_display_name")
                .like("run_id_pattern", "run_id").like("task_id_pattern", "task_id");
        int mapIndex = q.integer("map_index", -1, -1);
        q.where(x -> x.get("map_index").equals(mapIndex));
        q.range("logical_date").range("run_after");
        List<Map<String, Object>> items = new ArrayList<>();
        for (RunTasks rt : runs(dagId, runId)) {
            rt.latest().forEach((task, attempt) -> {
                if (taskId.equals(AirflowDagRunResource.ALL) || task.equals(taskId)) {
                    items.addAll(AirflowLogs.xcoms(rt.run(), attempt, false));
                }
            });
            if (!taskId.equals(AirflowDagRunResource.ALL) && !rt.latest().containsKey(taskId) && !runId.equals(AirflowDagRunResource.ALL)) {
                throw AirflowException.notFound("Task " + taskId + " is not a task of run " + runId);
            }
        }
        Map<String, Object> body = q.collection("xcom_entries", items, "key", XCOM_ORDER, Map.of("id", "timestamp"), 100);
        for (Object x : (List<?>) body.get("xcom_entries")) {
            ((Map<?, ?>) x).remove("run_after"); // a filter key only
            ((Map<?, ?>) x).remove("value"); // only a single entry's answer carries its value
        }
        return body;
    }

    @GET
    @Path("/{task_id}/xcomEntries/{xcom_key}")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> xcomEntry(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId,
                                         @PathParam("task_id") String taskId, @PathParam("xcom_key") String key) {
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        q.integer("map_index", -1, -1);
        Boolean stringify = q.bool("stringify");
        q.bool("deserialize");
        q.errors().throwIfAny();
        RunTasks rt = runs(dagId, runId).get(0);
        TaskRun attempt = rt.latest().get(taskId);
        return AirflowLogs.xcoms(rt.run(), attempt, Boolean.TRUE.equals(stringify)).stream()
                .filter(x -> x.get("key").equals(key)).findFirst()
                .map(x -> {
                    x.remove("run_after");
                    return x;
                })
                .orElseThrow(() -> AirflowException.notFound("XCom entry with key: `" + key + "` not found for task "
                        + taskId + " of run " + runId));
    }
}
