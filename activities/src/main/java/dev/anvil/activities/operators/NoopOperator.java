package dev.anvil.activities.operators;

import java.util.Map;

/** Does nothing and succeeds, like Airflow's EmptyOperator: for structure, tests and benchmarks. */
public final class NoopOperator implements Operator {
    @Override
    public String name() {
        return "noop";
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) {
        return Map.of();
    }
}
