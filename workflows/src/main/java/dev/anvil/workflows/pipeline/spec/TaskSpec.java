package dev.anvil.workflows.pipeline.spec;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One task of a pipeline, with {@code default_args} already applied: every value here is the
 * one the engine uses. {@code queue} is empty when the spec names none, meaning "the operator's
 * queue" ({@link OperatorRegistry#queueFor}). {@code cache} is the spec's wish; an operator that
 * is not deterministic is never cached whatever it says. {@code with} still holds
 * {@code ${...}} references, resolved when the task runs.
 */
public record TaskSpec(
        String id,
        String operator,
        List<String> upstream,
        TriggerRule triggerRule,
        int retries,
        Duration retryDelay,
        Duration executionTimeout,
        Optional<String> queue,
        Map<String, Object> with,
        boolean cache) {

    public TaskSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(triggerRule, "triggerRule");
        Objects.requireNonNull(retryDelay, "retryDelay");
        Objects.requireNonNull(executionTimeout, "executionTimeout");
        Objects.requireNonNull(queue, "queue");
        upstream = List.copyOf(upstream);
        with = JsonValues.freezeMap(with);
    }
}
