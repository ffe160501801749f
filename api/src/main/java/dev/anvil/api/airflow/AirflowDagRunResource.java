package dev.anvil.api.airflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.runs.RunCancellation;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.db.RunNoteStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.spec.Dag;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecException;
import io.smallrye.common.annotation.Blocking;
import io.temporal.client.WorkflowServiceException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Airflow's DAG runs: Anvil's pipeline runs. Triggering, cancelling and retrying go through the same services
 * as Anvil's own {@code /api/pipelines/{name}/runs}, {@code /api/runs/{id}/cancel} and {@code /retry}.
 */
@Path("/api/v2/dags/{dag_id}/dagRuns")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AirflowDagRunResource {
    static final List<String> RUN_STATES = List.of("queued", "running", "success", "failed");
    static final List<String> RUN_TYPES = List.of("backfill", "scheduled", "manual", "asset_triggered");
    static final String ALL = "~";
    private static final Set<String> RUN_ORDER = Set.of("dag_run_id", "dag_id", "logical_date", "queued_at",
            "start_date", "end_date", "duration", "run_after", "state", "run_type", "triggering_user_name", "conf");
    private static final Map<String, String> RUN_ALIASES = Map.of("id", "queued_at", "run_id", "dag_run_id",
            "updated_at", "queued_at");
    private static final Set<String> TRIGGER_KEYS = Set.of("dag_run_id", "logical_date", "data_interval_start",
            "data_interval_end", "run_after", "conf", "note");
    private static final List<String> DATE_FIELDS = List.of("run_after", "logical_date", "start_date", "end_date");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject PipelineStore pipelines;
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject RunLauncher launcher;
    @Inject RunCancellation cancellation;
    @Inject RunNoteStore notes;
    @Inject CurrentCaller caller;
    @Inject AuditTrail trail;
    @Context UriInfo uri;

    @GET
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> list(@PathParam("dag_id") String dagId) {
        AirflowQuery q = new AirflowQuery(uri.getQueryParameters());
        q.anyOf("state", "state", RUN_STATES).anyOf("run_type", "run_type", RUN_TYPES)
                .like("run_id_pattern", "dag_run_id").like("triggering_user_name_pattern", "triggering_user_name");
        DATE_FIELDS.forEach(q::range);
        q.range("updated_at"); // Anvil records no update time: a filter on it matches nothing
        return q.collection("dag_runs", rendered(dagId), "id", RUN_ORDER, RUN_ALIASES, 50);
    }

    /** {@code POST /dags/~/dagRuns/list}: the same list, its filters in the body and paged by page_offset/page_limit. */
    @POST
    @Path("/list")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> listBatch(@PathParam("dag_id") String dagId, String body) {
        Set<String> keys = new LinkedHashSet<>(List.of("order_by", "page_offset", "page_limit", "dag_ids", "states"));
        for (String field : DATE_FIELDS) {
            for (String op : List.of("gte", "gt", "lte", "lt")) {
                keys.add(field + "_" + op);
            }
        }
        ObjectNode b = AirflowBodies.object(body, keys, Set.of());
        if (!dagId.equals(ALL)) {
            throw AirflowException.badRequest("the dag_id in the path must be '~' for this list; filter with dag_ids");
        }
        MultivaluedMap<String, String> params = new MultivaluedHashMap<>();
        AirflowException.Validation errors = new AirflowException.Validation();
        for (String key : keys) {
            JsonNode v = b.get(key);
            if (v == null || v.isNull()) {
                continue;
            }
            switch (key) {
                case "page_offset", "page_limit" -> {
                    if (!v.canConvertToInt()) {
                        errors.add("int_type", "Input should be a valid integer", "body", key);
                    } else {
                        params.add(key.equals("page_offset") ? "offset" : "limit", v.asText());
                    }
                }
                case "dag_ids", "states" -> {
                    List<String> values = AirflowBodies.strings(b, key, errors);
                    if (values != null) {
                        params.put(key.equals("states") ? "state" : "dag_id", new ArrayList<>(values));
                    }
                }
                default -> {
                    String s = AirflowBodies.string(b, key, errors);
                    if (s != null) {
                        params.add(key, s);
                    }
                }
            }
        }
        errors.throwIfAny();
        AirflowQuery q = new AirflowQuery(params);
        q.anyOf("state", "state", RUN_STATES).anyOf("dag_id", "dag_id");
        DATE_FIELDS.forEach(q::range);
        return q.collection("dag_runs", rendered(ALL), "id", RUN_ORDER, RUN_ALIASES, 100);
    }

    /** Every run of the DAG ({@code ~}: of every DAG) rendered, newest first. */
    private List<Map<String, Object>> rendered(String dagId) {
        if (!dagId.equals(ALL)) {
            AirflowDagResource.find(pipelines, dagId);
        }
        Map<String, PipelineVersion> versions = new HashMap<>();
        Map<String, RunNoteStore.RunNote> byRun = notes.all();
        List<Map<String, Object>> items = new ArrayList<>();
        for (PipelineRun r : runs.list(dagId.equals(ALL) ? null : dagId, null, Integer.MAX_VALUE, 0)) {
            items.add(AirflowViews.dagRun(r, version(versions, r), byRun.get(r.id())));
        }
        return items;
    }

    private PipelineVersion version(Map<String, PipelineVersion> cache, PipelineRun r) {
        if (r.pipelineVersion() == null) {
            return null;
        }
        return cache.computeIfAbsent(r.pipeline() + "@" + r.pipelineVersion(),
                k -> pipelines.find(r.pipeline(), r.pipelineVersion()).orElse(null));
    }

    /**
     * Triggers a run of the newest version, as {@code POST /api/pipelines/{name}/runs} does: {@code conf} is the
     * run's params. A non-null {@code logical_date} reaches the tasks ({@code ${logical_date}}); it and the
     * {@code note} are kept beside the run (pipeline_run_notes) and read back with it.
     */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Map<String, Object> trigger(@PathParam("dag_id") String dagId, String body) {
        ObjectNode b = AirflowBodies.object(body, TRIGGER_KEYS, Set.of("logical_date"));
        AirflowException.Validation errors = new AirflowException.Validation();
        String runId = AirflowBodies.string(b, "dag_run_id", errors);
        Instant logicalDate = AirflowBodies.dateTime(b, "logical_date", errors);
        AirflowBodies.dateTime(b, "data_interval_start", errors);
        AirflowBodies.dateTime(b, "data_interval_end", errors);
        AirflowBodies.dateTime(b, "run_after", errors);
        String note = AirflowBodies.string(b, "note", errors);
        JsonNode conf = b.get("conf");
        if (conf != null && !conf.isNull() && !conf.isObject()) {
            errors.add("dict_type", "Input should be a valid dictionary", "body", "conf");
        }
        errors.throwIfAny();
        PipelineVersion version = AirflowDagResource.find(pipelines, dagId);
        if (runId != null && runId.isBlank()) {
            throw AirflowException.badRequest("dag_run_id must not be blank; leave it out for a generated one");
        }
        if (runId == null) {
            runId = dagId + "-" + UUID.randomUUID();
        } else if (runs.find(runId).isPresent()) {
            throw AirflowException.conflict("DAG Run with dag_run_id: `" + runId + "` already exists"
                    + " (Anvil's run ids are unique across all DAGs)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> params = conf == null || conf.isNull() ? Map.of() : JSON.convertValue(conf, Map.class);
        RunLauncher.Started started;
        try {
            started = launcher.start(dagId, runId, params, caller.name(),
                    logicalDate == null ? null : logicalDate.toString(), true);
        } catch (SpecException e) {
            throw AirflowException.badRequest("conf does not fit DAG " + dagId + ": " + e.getMessage());
        } catch (WorkflowServiceException e) {
            throw new AirflowException(503, "Temporal did not accept the run (" + e.getMessage() + "); retry");
        }
        trail.record("run.started", "run:" + started.runId(), "pipeline", dagId, "version", started.version(),
                "via", "airflow-api", "logical_date", logicalDate == null ? null : logicalDate.toString(), "note", note);
        if (logicalDate != null || note != null) {
            notes.recordTrigger(runId, logicalDate, note);
        }
        return AirflowViews.dagRun(runs.find(runId).orElseThrow(), version, notes.find(runId).orElse(null));
    }

    @GET
    @Path("/{dag_run_id}")
    @RolesAllowed(Roles.VIEWER)
    public Map<String, Object> get(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId) {
        PipelineRun run = find(dagId, runId);
        return AirflowViews.dagRun(run, version(new HashMap<>(), run), notes.find(run.id()).orElse(null));
    }

    /**
     * State changes map onto what Anvil does to a run: {@code failed} cancels a queued or running run (Anvil
     * records it cancelled, shown here as failed); {@code queued} retries a failed or cancelled run, as
     * {@code /api/runs/{id}/retry} does. Anvil never marks a run {@code success} by hand (its lineage would claim
     * outputs that do not exist), and finished runs are final: those answer 400. A note is kept beside the run.
     */
    @PATCH
    @Path("/{dag_run_id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Map<String, Object> patch(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId,
                                     String body) {
        ObjectNode b = AirflowBodies.object(body, Set.of("state", "note"), Set.of());
        AirflowException.Validation errors = new AirflowException.Validation();
        String state = AirflowBodies.string(b, "state", errors);
        String note = AirflowBodies.string(b, "note", errors);
        if (state != null && !List.of("queued", "success", "failed").contains(state)) {
            errors.add("enum", "Input should be 'queued', 'success' or 'failed'", "body", "state");
        }
        if (note != null && note.length() > 1000) {
            errors.add("string_too_long", "String should have at most 1000 characters", "body", "note");
        }
        errors.throwIfAny();
        List<String> mask = uri.getQueryParameters().get("update_mask");
        for (String field : mask == null ? List.<String>of() : mask) {
            if (!List.of("state", "note").contains(field)) {
                throw AirflowException.badRequest("Invalid field `" + field + "` in update mask");
            }
        }
        boolean setState = mask == null || mask.isEmpty() ? b.has("state") && state != null : mask.contains("state");
        boolean setNote = mask == null || mask.isEmpty() ? b.has("note") : mask.contains("note");
        PipelineRun run = find(dagId, runId);
        if (setState && state != null && !AirflowViews.runState(run.status()).equals(state)) {
            changeState(run, state);
        }
        if (setNote) {
            notes.setNote(runId, note);
            trail.record("run.noted", "run:" + runId, "note", note);
        }
        return get(dagId, runId);
    }

    private void changeState(PipelineRun run, String state) {
        switch (state) {
            case "failed" -> {
                if (run.isTerminal()) {
                    throw AirflowException.badRequest("run " + run.id() + " already ended as " + run.status()
                            + "; Anvil's finished runs are final");
                }
                cancellation.cancel(run.id());
            }
            case "queued" -> {
                if (!run.isTerminal()) {
                    return; // queued or running: already on its way
                }
                retry(run.id(), null);
            }
            default -> throw AirflowException.badRequest("Anvil does not mark a run success by hand: its tasks'"
                    + " outputs and lineage would not exist; clear (retry) the run instead");
        }
    }

    private void retry(String runId, String fromTask) {
        try {
            launcher.retry(runId, fromTask);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw AirflowException.conflict(e.getMessage());
        } catch (SpecException e) {
            throw AirflowException.badRequest("the run's spec no longer validates: " + e.getMessage());
        }
        trail.record("run.retried", "run:" + runId, "from", fromTask, "via", "airflow-api");
    }

    /**
     * Anvil keeps every run: its task attempts, artifacts, lineage, approvals and audit entries refer to it,
     * and provenance would break without it. So deleting one is refused (400), naming what to do instead.
     */
    @DELETE
    @Path("/{dag_run_id}")
    @RolesAllowed(Roles.ADMIN)
    public Map<String, Object> delete(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId) {
        PipelineRun run = find(dagId, runId);
        throw AirflowException.badRequest("Anvil keeps every run for lineage and audit, so run " + run.id()
                + " cannot be deleted; cancel it with PATCH {\"state\": \"failed\"} if it is still going");
    }

    /**
     * Airflow's clear is Anvil's retry: the tasks that did not succeed and everything downstream of them (with
     * only_failed false and a single root task, every task) run again as new tries of the same run. A dry run
     * (the default) lists the task instances that would run again.
     */
    @POST
    @Path("/{dag_run_id}/clear")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Map<String, Object> clear(@PathParam("dag_id") String dagId, @PathParam("dag_run_id") String runId,
                                     String body) {
        ObjectNode b = AirflowBodies.object(body, Set.of("dry_run", "only_failed", "run_on_latest_version"), Set.of());
        AirflowException.Validation errors = new AirflowException.Validation();
        boolean dryRun = AirflowBodies.bool(b, "dry_run", true, errors);
        boolean onlyFailed = AirflowBodies.bool(b, "only_failed", false, errors);
        boolean latestVersion = AirflowBodies.bool(b, "run_on_latest_version", false, errors);
        errors.throwIfAny();
        PipelineRun run = find(dagId, runId);
        if (latestVersion) {
            throw AirflowException.badRequest("Anvil retries a run with the pipeline version it started with;"
                    + " trigger a new run for the newest version");
        }
        PipelineVersion version = version(new HashMap<>(), run);
        Optional<PipelineSpec> spec = version == null ? Optional.empty() : AirflowViews.load(version);
        if (spec.isEmpty()) {
            throw AirflowException.badRequest("run " + runId + " has no pipeline version that still validates to clear");
        }
        Dag dag = Dag.of(spec.get());
        Map<String, TaskRun> latest = AirflowViews.latestAttempts(spec, taskRuns.listByRun(runId));
        String from = !onlyFailed && dag.roots().size() == 1 ? dag.roots().get(0) : null;
        Set<String> cleared = new LinkedHashSet<>();
        if (from != null) {
            cleared.addAll(dag.downstreamClosure(from));
        } else {
            for (String task : spec.get().tasks().keySet()) {
                TaskRun last = latest.get(task);
                if (last == null || !last.status().equals("success")) {
                    cleared.addAll(dag.downstreamClosure(task));
                }
            }
        }
        if (dryRun) {
            List<Map<String, Object>> tis = new ArrayList<>();
            for (String task : spec.get().tasks().keySet()) {
                if (cleared.contains(task)) {
                    tis.add(AirflowViews.taskInstance(run, version, spec, task, latest.get(task)));
                }
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("task_instances", tis);
            out.put("total_entries", tis.size());
            return out;
        }
        if (!List.of("failed", "cancelled").contains(run.status())) {
            throw AirflowException.conflict("run " + runId + " is " + run.status() + "; Anvil clears (retries) a run"
                    + " once it has ended failed or cancelled");
        }
        retry(runId, from);
        return get(dagId, runId);
    }

    PipelineRun find(String dagId, String runId) {
        if (!dagId.equals(ALL)) {
            AirflowDagResource.find(pipelines, dagId);
        }
        return runs.find(runId).filter(r -> dagId.equals(ALL) || r.pipeline().equals(dagId))
                .orElseThrow(() -> AirflowException.notFound("The DagRun with dag_id: `" + dagId
                        + "` and run_id: `" + runId + "` was not found"));
    }
}
