package dev.anvil.activities.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.tasklog.AttemptLog;
import dev.anvil.activities.tasklog.TaskLogs;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.TaskActivities;
import dev.anvil.workflows.pipeline.TaskInvocation;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryTaskActivities;
import dev.anvil.workflows.rollout.PreparedCanary;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A pipeline's {@code canary} task around its rollout: opens the attempt's task run and admits the rollout before
 * the pipeline workflow starts it as a child workflow, and records the attempt's end after. The rollout's id is
 * derived from the run and task, so an attempt retried within one try of the run prepares the same rollout, while
 * a retried run (a new try) starts a new one from its first step: the one before may have been rolled back.
 */
public final class CanaryTaskActivitiesImpl implements CanaryTaskActivities {
    private final TaskRunStore taskRuns;
    private final RolloutAdmission admission;
    private final Duration minInterval;
    private final ObjectMapper json;
    private final TaskLogs logs;

    public CanaryTaskActivitiesImpl(TaskRunStore taskRuns, RolloutAdmission admission, Duration minInterval,
                                    ObjectMapper json) {
        this(taskRuns, admission, minInterval, json, null);
    }

    /**
     * @param admission   the check every rollout passes, asked before the rollout starts so that a refused one
     *                    fails the task at once, naming what is missing
     * @param minInterval the shortest analysis window that counts as evidence
     * @param logs        where each attempt's log goes (what was admitted, or why not); null keeps none
     */
    public CanaryTaskActivitiesImpl(TaskRunStore taskRuns, RolloutAdmission admission, Duration minInterval,
                                    ObjectMapper json, TaskLogs logs) {
        this.logs = logs;
        this.taskRuns = taskRuns;
        this.admission = admission;
        this.minInterval = minInterval;
        this.json = json;
    }

    @Override
    public PreparedCanary prepare(TaskInvocation task) {
        return prepare(task, Activity.getExecutionContext().getInfo().getAttempt());
    }

    /** {@link #prepare(TaskInvocation)} as Temporal's attempt {@code attempt} (1 for the first) of this try. */
    PreparedCanary prepare(TaskInvocation task, int attempt) {
        int recordedAttempt = task.previousAttempts() + attempt;
        long taskRunId = taskRuns.start(task.runId(), task.taskId(), recordedAttempt, task.operator(), toJson(task.with()));
        String rolloutId = rolloutId(task);
        AttemptLog log = logs == null ? null : logs.open(task.runId(), task.taskId(), recordedAttempt);
        try {
            log(log, "info", "try " + recordedAttempt + " of task " + task.taskId() + " started (operator canary, run "
                    + task.runId() + ")");
            CanaryRequest request;
            try {
                request = admit(task, rolloutId, taskRunId);
            } catch (CanarySpec.Invalid | RolloutRefused e) {
                String message = "canary: " + e.getMessage();
                log(log, "error", message);
                taskRuns.finish(taskRunId, "failed", null, message);
                throw ApplicationFailure.newNonRetryableFailure(message, TaskActivities.INVALID_INPUT);
            } catch (RuntimeException e) {
                // the records could not be read: retried like any task's fault, as its retries allow
                String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                String status = attempt < task.maxAttempts() ? "up_for_retry" : "failed";
                log(log, "error", message + "; try " + recordedAttempt + " ended " + status);
                taskRuns.finish(taskRunId, status, null, message);
                throw ApplicationFailure.newFailure(message, "TaskFailed");
            }
            log(log, "info", "rollout " + rolloutId + " admitted: candidate " + request.candidateArtifact() + " on endpoint "
                    + request.endpoint() + ", steps " + request.steps() + " %, " + request.intervalSeconds()
                    + " s windows; it runs as a child workflow, steered with /api/rollouts/" + rolloutId
                    + " (pause, resume, promote, abort); the task ends when it is promoted, rolled back or aborted");
            return new PreparedCanary(taskRunId, recordedAttempt, request);
        } finally {
            if (log != null) {
                log.close();
            }
        }
    }

    private static void log(AttemptLog log, String level, String message) {
        if (log != null) {
            log.line(level, "anvil", message);
        }
    }

    private CanaryRequest admit(TaskInvocation task, String rolloutId, long taskRunId) {
        if (task.with() != null && task.with().containsKey("break_glass")) {
            throw new RolloutRefused(403, "break_glass", "break_glass is an admin's call, made with a reason over"
                    + " POST /api/rollouts and audited; a pipeline cannot break glass");
        }
        Map<String, Object> spec = new LinkedHashMap<>(task.with() == null ? Map.of() : task.with());
        spec.putIfAbsent("actor", "pipeline " + task.runId());
        CanaryRequest request = CanarySpec.parse(spec, rolloutId, taskRunId, minInterval);
        admission.admit(request, false);
        return request;
    }

    /** {@code rollout-<run>-<task>}, with the try's number after the first try of a retried run. */
    static String rolloutId(TaskInvocation task) {
        return "rollout-" + task.runId() + "-" + task.taskId()
                + (task.previousAttempts() == 0 ? "" : "-" + (task.previousAttempts() + 1));
    }

    @Override
    public void finish(long taskRunId, String status, Map<String, Object> outputs, String error) {
        // conditional: an attempt a cancelled run already ended keeps that record
        taskRuns.finish(taskRunId, status, outputs == null ? null : toJson(outputs), error);
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
