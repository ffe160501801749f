package dev.anvil.api.airflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.pipelines.PipelinePausing;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Airflow's DAGs: Anvil's pipelines, each at its newest version. */
@Path("/api/v2/dags")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AirflowDagResource {
    private static final Set<String> DAG_ORDER = Set.of("dag_id", "dag_display_name", "next_dagrun_logical_date",
            "next_dagrun_run_after", "is_paused", "last_parsed_time", "last_run_state", "last_run_start_date");

    @Inject PipelineStore pipelines;
    @Inject PipelineRunStore runs;
    @Inject PipelinePausing pausing;
    @Context UriInfo uri;

    @GET
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> list() {
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        List<PipelineVersion> latest = pipelines.listLatest();
        Map<String, PipelineRun> lastRuns = lastRuns();
        List<Map<String, Object>> items = new ArrayList<>();
        for (PipelineVersion v : latest) {
            Map<String, Object> dag = AirflowViews.dag(v, AirflowViews.load(v));
            PipelineRun last = lastRuns.get(v.pipeline());
            // sort and filter keys only; removed before the answer
            dag.put("last_run_state", last == null ? null : AirflowViews.runState(last.status()));
            dag.put("last_run_start_date", last == null ? null : AirflowViews.time(last.startedAt()));
            items.add(dag);
        }
        Boolean paused = q.bool("paused");
        if (paused != null) {
            q.where(d -> d.get("is_paused").equals(paused));
        }
        q.bool("exclude_stale"); // Anvil's pipelines are never stale: checked for its type only
        List<String> tags = q.all("tags");
        if (!tags.isEmpty()) {
            q.where(d -> false); // Anvil's pipelines carry no tags
        }
        String mode = q.one("tags_match_mode");
        if (mode != null && !List.of("any", "all").contains(mode)) {
            q.errors().add("enum", "Input should be 'any' or 'all'", "query", "tags_match_mode");
        }
        List<String> owners = q.all("owners");
        if (!owners.isEmpty()) {
            q.where(d -> ((List<?>) d.get("owners")).stream().anyMatch(owners::contains));
        }
        q.like("dag_id_pattern", "dag_id").like("dag_display_name_pattern", "dag_display_name")
                .anyOf("last_dag_run_state", "last_run_state", AirflowDagRunResource.RUN_STATES)
                .anyOf("dag_run_state", "last_run_state", AirflowDagRunResource.RUN_STATES);
        Map<String, Object> body = q.collection("dags", items, "dag_id", DAG_ORDER, 50);
        for (Object dag : (List<?>) body.get("dags")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) dag;
            m.remove("last_run_state");
            m.remove("last_run_start_date");
        }
        return body;
    }

    private Map<String, PipelineRun> lastRuns() {
        Map<String, PipelineRun> last = new HashMap<>();
        for (PipelineRun r : runs.list(null, null, Integer.MAX_VALUE, 0)) {
            last.putIfAbsent(r.pipeline(), r); // newest first
        }
        return last;
    }

    @GET
    @Path("/{dag_id}")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> get(@PathParam("dag_id") String dagId) {
        PipelineVersion v = find(pipelines, dagId);
        return AirflowViews.dag(v, AirflowViews.load(v));
    }

    @GET
    @Path("/{dag_id}/details")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> details(@PathParam("dag_id") String dagId) {
        PipelineVersion v = find(pipelines, dagId);
        return AirflowViews.dagDetails(v, AirflowViews.load(v));
    }

    /** Pausing a DAG pauses the pipeline's schedule, as {@code POST /api/pipelines/{name}/pause} does. */
    @PATCH
    @Path("/{dag_id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Map<String, Object> patch(@PathParam("dag_id") String dagId, String body) {
        ObjectNode patch = AirflowBodies.object(body, Set.of("is_paused"), Set.of("is_paused"));
        List<String> mask = uri.getQueryParameters().getOrDefault("update_mask", List.of());
        for (String field : mask) {
            if (!field.equals("is_paused")) {
                throw AirflowException.badRequest("Only `is_paused` field can be updated through the REST API");
            }
        }
        JsonNode paused = patch.get("is_paused");
        if (!paused.isBoolean()) {
            throw AirflowException.invalid("bool_type", "Input should be a valid boolean", "body", "is_paused");
        }
        find(pipelines, dagId);
        pausing.setPaused(dagId, paused.asBoolean());
        return get(dagId);
    }

    @GET
    @Path("/{dag_id}/tasks")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> tasks(@PathParam("dag_id") String dagId) {
        PipelineSpec spec = spec(dagId);
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        List<Map<String, Object>> items = spec.tasks().values().stream().map(t -> AirflowViews.task(spec, t)).toList();
        String order = q.one("order_by");
        Map<String, Object> body = q.collection("tasks", items, order == null ? "task_id" : order,
                Set.of("task_id", "task_display_name", "operator_name", "retries", "queue", "trigger_rule"),
                Integer.MAX_VALUE);
        return body;
    }

    @GET
    @Path("/{dag_id}/tasks/{task_id}")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> task(@PathParam("dag_id") String dagId, @PathParam("task_id") String taskId) {
        PipelineSpec spec = spec(dagId);
        TaskSpec t = spec.tasks().get(taskId);
        if (t == null) {
            throw AirflowException.notFound("Task with id " + taskId + " not found in DAG " + dagId
                    + "; its tasks are " + spec.tasks().keySet());
        }
        return AirflowViews.task(spec, t);
    }

    private PipelineSpec spec(String dagId) {
        PipelineVersion v = find(pipelines, dagId);
        Optional<PipelineSpec> spec = AirflowViews.load(v);
        return spec.orElseThrow(() -> AirflowException.badRequest("DAG " + dagId + " version " + v.version()
                + " no longer validates (see /api/v2/importErrors); register it again with PUT /api/pipelines/" + dagId));
    }

    static PipelineVersion find(PipelineStore pipelines, String dagId) {
        return pipelines.latest(dagId).orElseThrow(() -> AirflowException.notFound(
                "The Dag with ID: `" + dagId + "` was not found"));
    }
}
