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
        boolean cache) {}
