package dev.anvil.workflows.pipeline;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

@ActivityInterface
public interface TaskActivities {
    /** Failure type for bad input to an operator: retrying cannot help, so it is not retried. */
    String INVALID_INPUT = "InvalidTaskInput";

    /**
     * Runs one attempt of a task through its operator and records the attempt as a task run
     * (running, then success, up_for_retry or failed), keyed by (run, task, attempt).
     */
    @ActivityMethod(name = "RunTask")
    TaskResult runTask(TaskInvocation invocation);

    /**
     * Records a task that ends without running (skipped, upstream_failed) as attempt {@code attempt},
     * or, with {@code attempt} 0, ends the attempt a cancel stopped while it ran.
     */
    @ActivityMethod(name = "RecordTaskState")
    void recordTaskState(String runId, String taskId, String operator, int attempt, String status, String error);
}
