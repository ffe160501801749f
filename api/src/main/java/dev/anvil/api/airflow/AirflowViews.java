package dev.anvil.api.airflow;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineVersion;
import dev.anvil.db.RunNoteStore;
import dev.anvil.db.TaskRun;
import dev.anvil.workflows.pipeline.spec.Dag;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.Schedule;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Anvil's records in Airflow's words: a pipeline is a DAG, a pipeline version a DAG version, a run a DAG run,
 * a task attempt a task instance (its try), a task's outputs its XCom entries. Every field Airflow's schema
 * requires is present; what Anvil does not record is {@code null} where Airflow allows it.
 */
final class AirflowViews {
    static final OperatorRegistry OPERATORS = OperatorRegistry.builtIns();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Scheduled runs are named {@code <pipeline>-scheduled-<tick>}, the tick without '-' and ':' (ScheduleActivitiesImpl). */
    /** The ids EventTriggers.runId gives event-started runs. */
    private static final Pattern EVENT_RUN = Pattern.compile("-on-(drift|dataset)-[0-9a-f]{16}$");
    private static final Pattern SCHEDULED = Pattern.compile("-scheduled-(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})(\\.\\d+)?Z$");

    private AirflowViews() {
    }

    /** Anvil's run status as Airflow's DagRunState: Airflow has no "cancelled", a cancelled run is failed. */
    static String runState(String anvilStatus) {
        return anvilStatus.equals("cancelled") ? "failed" : anvilStatus;
    }

    /** Anvil's task-run statuses are already Airflow's TaskInstanceState names (task_runs_status_check). */
    static String taskState(String anvilStatus) {
        return anvilStatus;
    }

    static Optional<PipelineSpec> load(PipelineVersion v) {
        try {
            return Optional.of(SpecLoader.load(v.spec(), OPERATORS, Set.of()));
        } catch (SpecException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static String time(Instant t) {
        return t == null ? null : t.toString();
    }

    static Map<String, Object> dagVersion(PipelineVersion v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", UUID.nameUUIDFromBytes((v.pipeline() + "@" + v.version()).getBytes(StandardCharsets.UTF_8)).toString());
        m.put("version_number", v.version());
        m.put("dag_id", v.pipeline());
        m.put("bundle_name", null);
        m.put("bundle_version", null);
        m.put("created_at", time(v.createdAt()));
        m.put("dag_display_name", v.pipeline());
        m.put("bundle_url", null);
        return m;
    }

    static Map<String, Object> dag(PipelineVersion v, Optional<PipelineSpec> spec) {
        Optional<Schedule> schedule = spec.flatMap(PipelineSpec::schedule);
        Instant next = v.paused() ? null
                : schedule.flatMap(s -> safeNext(s)).orElse(null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dag_id", v.pipeline());
        m.put("dag_display_name", v.pipeline());
        m.put("is_paused", v.paused());
        m.put("is_stale", false);
        m.put("last_parsed_time", time(v.createdAt()));
        m.put("last_expired", null);
        m.put("bundle_name", null);
        m.put("bundle_version", null);
        m.put("relative_fileloc", null);
        m.put("fileloc", "/api/pipelines/" + v.pipeline());
        m.put("description", spec.map(PipelineSpec::description).filter(d -> !d.isBlank()).orElse(null));
        m.put("timetable_summary", schedule.map(Schedule::expression).orElse(null));
        m.put("timetable_description", schedule.map(s -> "Anvil schedule " + s.expression()).orElse(null));
        m.put("tags", List.of());
        m.put("max_active_tasks", 16);
        m.put("max_active_runs", spec.map(PipelineSpec::maxActiveRuns).orElse(null)); // null: no bound
        m.put("max_consecutive_failed_dag_runs", 0);
        m.put("has_task_concurrency_limits", false);
        m.put("has_import_errors", spec.isEmpty());
        m.put("next_dagrun_logical_date", time(next));
        m.put("next_dagrun_data_interval_start", null);
        m.put("next_dagrun_data_interval_end", null);
        m.put("next_dagrun_run_after", time(next));
        m.put("owners", v.registeredBy() == null ? List.of() : List.of(v.registeredBy()));
        m.put("file_token", Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("/api/pipelines/" + v.pipeline()).getBytes(StandardCharsets.UTF_8)));
        return m;
    }

    private static Optional<Instant> safeNext(Schedule s) {
        try {
            return s.nextAfter(Instant.now(), ZoneOffset.UTC);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    static Map<String, Object> dagDetails(PipelineVersion v, Optional<PipelineSpec> spec) {
        Map<String, Object> m = dag(v, spec);
        m.put("catchup", spec.map(PipelineSpec::catchup).orElse(false));
        m.put("dag_run_timeout", null);
        m.put("asset_expression", null);
        m.put("doc_md", null);
        m.put("start_date", null);
        m.put("end_date", null);
        m.put("is_paused_upon_creation", null);
        m.put("params", spec.map(s -> (Object) s.params()).orElse(null));
        m.put("render_template_as_native_obj", false);
        m.put("template_search_path", null);
        m.put("timezone", "UTC");
        m.put("last_parsed", time(v.createdAt()));
        m.put("default_args", spec.map(s -> (Object) defaultArgs(s)).orElse(null));
        m.put("concurrency", 16);
        m.put("latest_dag_version", dagVersion(v));
        m.put("owner_links", null);
        return m;
    }

    private static Map<String, Object> defaultArgs(PipelineSpec s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("retries", s.defaultArgs().retries());
        m.put("retry_delay", s.defaultArgs().retryDelay().toSeconds());
        m.put("execution_timeout", s.defaultArgs().executionTimeout().toSeconds());
        m.put("trigger_rule", s.defaultArgs().triggerRule().specName());
        s.defaultArgs().queue().ifPresent(q -> m.put("queue", q));
        return m;
    }

    static Map<String, Object> timeDelta(Duration d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("__type", "TimeDelta");
        m.put("days", (int) d.toDays());
        m.put("seconds", (int) (d.toSeconds() % 86_400));
        m.put("microseconds", d.toNanosPart() / 1000);
        return m;
    }

    static Map<String, Object> task(PipelineSpec spec, TaskSpec t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task_id", t.id());
        m.put("task_display_name", t.id());
        m.put("owner", null);
        m.put("start_date", null);
        m.put("end_date", null);
        m.put("trigger_rule", t.triggerRule().specName());
        m.put("depends_on_past", false);
        m.put("wait_for_downstream", false);
        m.put("retries", t.retries());
        m.put("queue", OPERATORS.queueFor(t));
        m.put("pool", "default_pool");
        m.put("pool_slots", 1);
        m.put("execution_timeout", timeDelta(t.executionTimeout()));
        m.put("retry_delay", timeDelta(t.retryDelay()));
        m.put("retry_exponential_backoff", false);
        m.put("priority_weight", 1);
        m.put("weight_rule", "downstream");
        m.put("ui_color", null);
        m.put("ui_fgcolor", null);
        m.put("template_fields", List.of());
        m.put("downstream_task_ids", Dag.of(spec).downstream(t.id()));
        m.put("doc_md", null);
        m.put("operator_name", t.operator());
        m.put("params", t.with());
        Map<String, Object> classRef = new LinkedHashMap<>();
        classRef.put("module_path", "anvil.operators");
        classRef.put("class_name", t.operator());
        m.put("class_ref", classRef);
        m.put("is_mapped", false);
        m.put("extra_links", List.of());
        return m;
    }

    /** The tick a scheduled run ran for, read back from its id; null for a run started by hand. */
    static Instant logicalDate(PipelineRun run) {
        Matcher m = SCHEDULED.matcher(run.id());
        if (!m.find()) {
            return null;
        }
        return Instant.parse(m.group(1) + "-" + m.group(2) + "-" + m.group(3) + "T" + m.group(4) + ":" + m.group(5)
                + ":" + m.group(6) + (m.group(7) == null ? "" : m.group(7)) + "Z");
    }

    static Instant runAfter(PipelineRun run) {
        Instant logical = logicalDate(run);
        return logical != null ? logical : run.createdAt();
    }

    static Double seconds(Instant start, Instant end) {
        return start == null || end == null ? null : Duration.between(start, end).toNanos() / 1e9;
    }

    static Map<String, Object> dagRun(PipelineRun run, PipelineVersion version, RunNoteStore.RunNote note) {
        Instant scheduled = logicalDate(run);
        Instant logical = scheduled != null ? scheduled : note == null ? null : note.logicalDate();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dag_run_id", run.id());
        m.put("dag_id", run.pipeline());
        m.put("logical_date", time(logical));
        m.put("queued_at", time(run.createdAt()));
        m.put("start_date", time(run.startedAt()));
        m.put("end_date", time(run.finishedAt()));
        m.put("duration", seconds(run.startedAt(), run.finishedAt()));
        m.put("data_interval_start", null);
        m.put("data_interval_end", null);
        m.put("run_after", time(scheduled != null ? scheduled : run.createdAt()));
        m.put("last_scheduling_decision", null);
        // an event-started run (schedule.on) is Airflow 3's asset-triggered run
        boolean asset = EVENT_RUN.matcher(run.id()).find();
        m.put("run_type", asset ? "asset_triggered" : scheduled != null ? "scheduled" : "manual");
        m.put("state", runState(run.status()));
        m.put("triggered_by", asset ? "asset" : scheduled != null ? "timetable" : "rest_api");
        m.put("triggering_user_name", run.submittedBy());
        m.put("conf", json(run.paramsJson()));
        m.put("note", note == null ? null : note.note());
        m.put("dag_versions", version == null ? List.of() : List.of(dagVersion(version)));
        m.put("bundle_version", null);
        m.put("dag_display_name", run.pipeline());
        return m;
    }

    /** A task instance: the newest attempt of a task in a run, or the task not started yet (attempt null). */
    static Map<String, Object> taskInstance(PipelineRun run, PipelineVersion version, Optional<PipelineSpec> spec,
                                            String taskId, TaskRun attempt) {
        Optional<TaskSpec> task = spec.map(s -> s.tasks().get(taskId));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", UUID.nameUUIDFromBytes((run.id() + "/" + taskId).getBytes(StandardCharsets.UTF_8)).toString());
        m.put("task_id", taskId);
        m.put("dag_id", run.pipeline());
        m.put("dag_run_id", run.id());
        m.put("map_index", -1);
        m.put("logical_date", time(logicalDate(run)));
        m.put("run_after", time(runAfter(run)));
        m.put("start_date", attempt == null ? null : time(attempt.startedAt()));
        m.put("end_date", attempt == null ? null : time(attempt.finishedAt()));
        m.put("duration", attempt == null ? null : seconds(attempt.startedAt(), attempt.finishedAt()));
        m.put("state", attempt == null ? null : taskState(attempt.status()));
        m.put("try_number", attempt == null ? 0 : attempt.attempt());
        m.put("max_tries", task.map(TaskSpec::retries).orElse(0));
        m.put("task_display_name", taskId);
        m.put("dag_display_name", run.pipeline());
        m.put("hostname", null);
        m.put("unixname", null);
        m.put("pool", "default_pool");
        m.put("pool_slots", 1);
        m.put("queue", task.map(OPERATORS::queueFor).orElse(null));
        m.put("priority_weight", 1);
        m.put("operator", attempt != null ? attempt.operator() : task.map(TaskSpec::operator).orElse(null));
        m.put("operator_name", attempt != null ? attempt.operator() : task.map(TaskSpec::operator).orElse(null));
        m.put("queued_when", null);
        m.put("scheduled_when", null);
        m.put("pid", null);
        m.put("executor", null);
        m.put("executor_config", "{}");
        m.put("note", null);
        m.put("rendered_map_index", null);
        Map<String, Object> rendered = attempt == null ? null : json(attempt.parametersJson());
        m.put("rendered_fields", rendered == null ? Map.of() : rendered);
        m.put("trigger", null);
        m.put("triggerer_job", null);
        m.put("dag_version", version == null ? null : dagVersion(version));
        return m;
    }

    /** The newest attempt of each task, in the spec's task order, then any task the spec no longer names. */
    static Map<String, TaskRun> latestAttempts(Optional<PipelineSpec> spec, List<TaskRun> attempts) {
        Map<String, TaskRun> latest = new LinkedHashMap<>();
        spec.ifPresent(s -> s.tasks().keySet().forEach(t -> latest.put(t, null)));
        for (TaskRun t : attempts) {
            TaskRun seen = latest.get(t.taskId());
            if (seen == null || t.attempt() >= seen.attempt()) {
                latest.put(t.taskId(), t);
            }
        }
        return latest;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            Object value = JSON.readValue(text, Object.class);
            return value instanceof Map<?, ?> map ? (Map<String, Object>) map : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    static List<Object> list(Object... values) {
        return new ArrayList<>(List.of(values));
    }
}
