package dev.anvil.activities.operators;

import java.util.Map;

/**
 * The work behind a pipeline operator, as a plain engine: it takes the task's resolved {@code with}
 * and returns its outputs (artifact references as maps, or small JSON values). Bad input throws
 * {@link InvalidTaskInputException}; anything else is treated as a fault worth a retry.
 */
public interface Operator {
    String name();

    Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception;
}
