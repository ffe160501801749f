package dev.anvil.activities.operators;

import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.util.Map;

/** Does nothing and succeeds, like Airflow's EmptyOperator: for structure, tests and benchmarks. */
public final class NoopOperator implements Operator {
    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.NOOP;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) {
        return Map.of();
    }
}
