package dev.anvil.workflows.pipeline;

import java.util.Map;

/**
 * One task for {@link TaskActivities#runTask}: which operator, with its {@code with} already resolved.
 *
 * @param maxAttempts retries + 1; the activity records an attempt that fails before the last as up_for_retry
 * @param previousAttempts attempts the task had before this run was retried; recorded attempt
 *                         numbers continue after them
 * @param cacheable        whether an earlier success with the same inputs may stand in for this task
 */
public record TaskInvocation(String runId, String taskId, String operator, Map<String, Object> with, int maxAttempts,
                             int previousAttempts, boolean cacheable) {

    public TaskInvocation(String runId, String taskId, String operator, Map<String, Object> with, int maxAttempts) {
        this(runId, taskId, operator, with, maxAttempts, 0, false);
    }
}
