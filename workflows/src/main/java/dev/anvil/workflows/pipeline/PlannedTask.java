package dev.anvil.workflows.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One task as the engine runs it: the spec's task with defaults applied. {@code with} may hold
 * references (${params.x}, ${tasks.T.outputs.y}, ${run.id}) that the workflow resolves just before
 * the task starts.
 *
 * @param retries        attempts after the first (Airflow's retries)
 * @param retryDelay     wait between attempts (fixed, as Airflow's retry_delay)
 * @param triggerRule    one of {@link TriggerRule}'s names in lower case, e.g. "all_success"
 * @param executionTimeout the bound on one attempt (the task's execution_timeout, or the operator's own)
 * @param heartbeatTimeout the operator's heartbeat timeout (its descriptor's); null: none, or a plan made before
 *                       plans carried it, whose task then takes the built-in operator's
 */
public record PlannedTask(
        String id,
        String operator,
        List<String> upstream,
        String triggerRule,
        int retries,
        Duration retryDelay,
        Duration executionTimeout,
        String queue,
        Map<String, Object> with,
        boolean cache,
        Duration heartbeatTimeout) {

    /** A task without a heartbeat timeout of its own (the built-in operator's applies, if it has one). */
    public PlannedTask(String id, String operator, List<String> upstream, String triggerRule, int retries,
                       Duration retryDelay, Duration executionTimeout, String queue, Map<String, Object> with,
                       boolean cache) {
        this(id, operator, upstream, triggerRule, retries, retryDelay, executionTimeout, queue, with, cache, null);
    }
}
