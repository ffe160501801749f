package dev.anvil.workflows.pipeline.spec;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Task settings that apply unless a task says otherwise (Airflow's {@code default_args}).
 * {@code queue} is empty when neither the spec nor the task names one: the operator's queue applies.
 */
public record DefaultArgs(
        int retries,
        Duration retryDelay,
        Duration executionTimeout,
        TriggerRule triggerRule,
        Optional<String> queue,
        boolean cache) {

    /**
     * Anvil's built-ins. No retries unless asked (as in Airflow); five minutes between retries (as
     * in Airflow); and, unlike Airflow, a one-hour timeout, because a Temporal activity must have
     * one and an unbounded task would hold a worker slot forever.
     */
    public static final DefaultArgs BUILT_IN = new DefaultArgs(
            0, Duration.ofMinutes(5), Duration.ofHours(1), TriggerRule.ALL_SUCCESS, Optional.empty(), true);

    public DefaultArgs {
        Objects.requireNonNull(retryDelay, "retryDelay");
        Objects.requireNonNull(executionTimeout, "executionTimeout");
        Objects.requireNonNull(triggerRule, "triggerRule");
        Objects.requireNonNull(queue, "queue");
        if (retries < 0) {
            throw new IllegalArgumentException("retries must be 0 or more, got " + retries);
        }
    }
}
