package dev.anvil.activities.operators;

import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.util.Map;

/**
 * The work behind a pipeline operator, as a plain engine: it takes the task's resolved {@code with}
 * and returns its outputs (artifact references as maps, or small JSON values). Bad input throws
 * {@link InvalidTaskInputException}; anything else is treated as a fault worth a retry.
 */
public interface Operator {
    /**
     * The operator type this engine runs: its descriptor constant in {@code BuiltInOperators}, which gives its name,
     * {@code with} schema, queue, caching and timeouts. A worker's {@link Operators} are keyed by it.
     */
    OperatorDescriptor descriptor();

    /** The operator's name in specs. */
    default String name() {
        return descriptor().name();
    }

    Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception;
}
