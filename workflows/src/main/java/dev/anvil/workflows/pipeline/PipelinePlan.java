package dev.anvil.workflows.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What a {@link PipelineWorkflow} runs: the validated spec's tasks in declaration order, the run's
 * parameters, and how many tasks may run at once.
 *
 * @param logicalDate for a scheduled run, the schedule tick it stands for (ISO-8601); null for a run
 *                    started by hand, whose logical date is its start
 * @param carriedOver for a retried run, the tasks that keep their earlier end (success with its
 *                    outputs, or skipped); they do not run again
 * @param previousAttempts for a retried run, attempts each task already had, so new attempts are
 *                    numbered after them
 * @param scheduleToStartTimeout how long a task may wait on its queue for a worker before it fails
 *                    with a message that says which queue nobody polls; null (runs recorded before
 *                    it existed): no limit, as before
 */
public record PipelinePlan(
        String pipeline,
        int pipelineVersion,
        Map<String, Object> params,
        List<PlannedTask> tasks,
        int maxParallelTasks,
        String submittedBy,
        String logicalDate,
        Map<String, TaskState> carriedOver,
        Map<String, Integer> previousAttempts,
        Duration scheduleToStartTimeout) {

    public PipelinePlan {
        carriedOver = carriedOver == null ? Map.of() : carriedOver;
        previousAttempts = previousAttempts == null ? Map.of() : previousAttempts;
    }

    public PipelinePlan(String pipeline, int pipelineVersion, Map<String, Object> params, List<PlannedTask> tasks,
                        int maxParallelTasks, String submittedBy) {
        this(pipeline, pipelineVersion, params, tasks, maxParallelTasks, submittedBy, null, Map.of(), Map.of(), null);
    }

    public PipelinePlan withLogicalDate(String date) {
        return new PipelinePlan(pipeline, pipelineVersion, params, tasks, maxParallelTasks, submittedBy, date,
                carriedOver, previousAttempts, scheduleToStartTimeout);
    }

    /** The same plan with step caching off for every task (a run started with cache: false). */
    public PipelinePlan withoutCache() {
        List<PlannedTask> uncached = tasks.stream().map(t -> new PlannedTask(t.id(), t.operator(), t.upstream(),
                t.triggerRule(), t.retries(), t.retryDelay(), t.executionTimeout(), t.queue(), t.with(), false,
                t.heartbeatTimeout())).toList();
        return new PipelinePlan(pipeline, pipelineVersion, params, uncached, maxParallelTasks, submittedBy, logicalDate,
                carriedOver, previousAttempts, scheduleToStartTimeout);
    }

    /** The same plan as a retry that keeps {@code kept} tasks' ends and numbers attempts after {@code attempts}. */
    public PipelinePlan asRetry(Map<String, TaskState> kept, Map<String, Integer> attempts) {
        return new PipelinePlan(pipeline, pipelineVersion, params, tasks, maxParallelTasks, submittedBy, logicalDate,
                kept, attempts, scheduleToStartTimeout);
    }

    /** The same plan whose tasks fail after waiting {@code timeout} for a worker on their queue. */
    public PipelinePlan withScheduleToStartTimeout(Duration timeout) {
        return new PipelinePlan(pipeline, pipelineVersion, params, tasks, maxParallelTasks, submittedBy, logicalDate,
                carriedOver, previousAttempts, timeout);
    }
}
