package dev.anvil.activities.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.Operators;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.operators.TaskLog;
import dev.anvil.activities.tasklog.AttemptLog;
import dev.anvil.activities.tasklog.TaskLogs;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.LineageStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.TaskActivities;
import dev.anvil.workflows.pipeline.TaskInvocation;
import dev.anvil.workflows.pipeline.TaskResult;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import io.temporal.failure.ApplicationFailure;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * Runs one attempt of a pipeline task through its operator and records it as a task run: running,
 * then success, up_for_retry (a failed attempt with attempts left) or failed. Bad input fails the
 * task without retries.
 */
public class TaskActivitiesImpl implements TaskActivities {
    private final Operators operators;
    private final TaskRunStore taskRuns;
    private final LineageStore lineage;
    private final ObjectMapper json;
    private final ObjectMapper canonicalJson;
    private final TaskLogs logs;

    public TaskActivitiesImpl(Operators operators, TaskRunStore taskRuns, LineageStore lineage, ObjectMapper json) {
        this(operators, taskRuns, lineage, json, null);
    }

    /** @param logs where each attempt's log goes; null keeps none */
    public TaskActivitiesImpl(Operators operators, TaskRunStore taskRuns, LineageStore lineage, ObjectMapper json,
                              TaskLogs logs) {
        this.logs = logs;
        this.operators = operators;
        this.taskRuns = taskRuns;
        this.lineage = lineage;
        this.json = json;
        this.canonicalJson = json.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    }

    @Override
    public TaskResult runTask(TaskInvocation task) {
        ActivityExecutionContext activity = Activity.getExecutionContext();
        int attempt = activity.getInfo().getAttempt();
        // a retried run numbers its attempts after the ones the task already had
        int recordedAttempt = task.previousAttempts() + attempt;
        long taskRunId = taskRuns.start(task.runId(), task.taskId(), recordedAttempt, task.operator(), toJson(task.with()));
        AttemptLog log = logs == null ? null : logs.open(task.runId(), task.taskId(), recordedAttempt);
        try {
            return run(task, activity, attempt, recordedAttempt, taskRunId, log == null ? TaskLog.DISCARD : log);
        } finally {
            if (log != null) {
                log.close();
            }
        }
    }

    private TaskResult run(TaskInvocation task, ActivityExecutionContext activity, int attempt, int recordedAttempt,
                           long taskRunId, TaskLog log) {
        log.info("try " + recordedAttempt + " of task " + task.taskId() + " started (operator " + task.operator()
                + ", run " + task.runId() + ")");
        if (task.cacheable()) {
            String key = cacheKey(task);
            taskRuns.setCacheKey(taskRunId, key);
            Optional<TaskRun> earlier = taskRuns.findCached(key);
            if (earlier.isPresent()) {
                log.info("reused the outputs of task run " + earlier.get().id() + ", which had the same operator and"
                        + " inputs, instead of running");
                return reuse(taskRunId, earlier.get());
            }
        }
        Operator operator = operators.find(task.operator()).orElse(null);
        if (operator == null) {
            String message = "no operator '" + task.operator() + "' on this worker; it has " + operators.names();
            log.error(message);
            taskRuns.finish(taskRunId, "failed", null, message);
            throw ApplicationFailure.newNonRetryableFailure(message, INVALID_INPUT);
        }
        // heartbeats while the operator works; the keep-alive stops as the attempt ends
        try (AttemptHeartbeat heartbeat = new AttemptHeartbeat(activity)) {
            return runOperator(task, operator, activity, heartbeat, attempt, recordedAttempt, taskRunId, log);
        }
    }

    private TaskResult runOperator(TaskInvocation task, Operator operator, ActivityExecutionContext activity,
                                   AttemptHeartbeat heartbeat, int attempt, int recordedAttempt, long taskRunId,
                                   TaskLog log) {
        boolean[] completesLater = {false};
        TaskContext context = new TaskContext() {
            public String runId() { return task.runId(); }
            public int attempt() { return recordedAttempt; }
            public byte[] temporalTaskToken() { return activity.getTaskToken(); }
            public void completeLater() {
                activity.doNotCompleteOnReturn();
                completesLater[0] = true;
            }
            public String taskId() { return task.taskId(); }
            public long taskRunId() { return taskRunId; }
            public int previousAttempts() { return task.previousAttempts(); }
            public void heartbeat(Object progress) { heartbeat.progress(progress); }
            public <T> Optional<T> lastHeartbeat(Class<T> type) { return heartbeat.previous(type); }
            public TaskLog log() { return log; }
        };
        try {
            Map<String, Object> outputs = operator.run(context, task.with());
            if (completesLater[0]) {
                // ended later through the task token (e.g. POST /api/tasks/{token}/complete), which records the end
                log.info("try " + recordedAttempt + " handed over: it ends when the service completes or fails it");
                return null;
            }
            log.info("try " + recordedAttempt + " ended success");
            taskRuns.finish(taskRunId, "success", toJson(outputs), null);
            return new TaskResult(outputs);
        } catch (ActivityCompletionException e) {
            // cancelled (or given up) while it worked: whoever cancelled the run records the attempt
            // (PipelineWorkflow), and finish() would refuse a write over that record anyway
            log.warning("try " + recordedAttempt + " stopped: the task was cancelled or timed out");
            throw e;
        } catch (InvalidTaskInputException e) {
            log.error(e.getMessage());
            log.error("try " + recordedAttempt + " ended failed (bad input, not retried)");
            taskRuns.finish(taskRunId, "failed", null, e.getMessage());
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), INVALID_INPUT);
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            String status = attempt < task.maxAttempts() ? "up_for_retry" : "failed";
            log.error(message);
            log.error("try " + recordedAttempt + " ended " + status);
            taskRuns.finish(taskRunId, status, null, message);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw ApplicationFailure.newFailure(message, "TaskFailed");
        }
    }

    /**
     * Step caching: the key covers the operator and its resolved parameters, which name every input
     * artifact by its sha256, so equal keys mean equal inputs. Map keys are sorted first, so the key
     * does not depend on the order a spec lists them in.
     */
    String cacheKey(TaskInvocation task) {
        try {
            byte[] canonical = canonicalJson.writeValueAsBytes(Map.of("operator", task.operator(), "with", task.with()));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot compute the cache key of task " + task.taskId(), e);
        }
    }

    /** Records this attempt as a success that reused {@code earlier}'s outputs, with the same lineage. */
    private TaskResult reuse(long taskRunId, TaskRun earlier) {
        taskRuns.finishCached(taskRunId, earlier.id(), earlier.metricsJson());
        for (LineageEdge edge : lineage.edgesOf(earlier.id())) {
            lineage.addEdge(taskRunId, edge.artifactSha256(), edge.relation(), edge.role());
        }
        return new TaskResult(StoredJson.read(json, earlier.metricsJson()));
    }

    @Override
    public void recordTaskState(String runId, String taskId, String operator, int attempt, String status, String error) {
        long id;
        if (attempt == 0) {
            // a task stopped by a cancel: end the attempt still marked running (none if it never got to start)
            Optional<TaskRun> open = taskRuns.listByRun(runId).stream()
                    .filter(t -> t.taskId().equals(taskId) && t.finishedAt() == null)
                    .max(Comparator.comparingInt(TaskRun::attempt));
            if (open.isEmpty()) {
                return;
            }
            id = open.get().id();
        } else {
            // keyed by (run, task, attempt): a retried call finds the same row
            id = taskRuns.start(runId, taskId, attempt, operator, "{}");
        }
        taskRuns.finish(id, status, null, error);
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
