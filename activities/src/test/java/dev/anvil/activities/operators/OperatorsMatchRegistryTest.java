package dev.anvil.activities.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorsMatchRegistryTest {

    @Test
    void everyDescriptorNeedsAnEngineAndEveryEngineADescriptor() {
        OperatorRegistry registry = OperatorRegistry.of(List.of(BuiltInOperators.NOOP, BuiltInOperators.SLEEP,
                BuiltInOperators.APPROVAL));
        assertThat(new Operators(new NoopOperator(), new SleepOperator()).requireMatches(registry).names())
                .containsExactly("noop", "sleep");

        assertThatThrownBy(() -> new Operators(new NoopOperator()).requireMatches(registry))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("operators [sleep] have a descriptor but no engine on this worker: add their Operator to "
                        + "the worker's Operators (AnvilStartup)");
        assertThatThrownBy(() -> new Operators(new NoopOperator(), new SleepOperator(), named("train"))
                .requireMatches(registry))
                .hasMessage("engines [train] have no descriptor, so no spec can name them: add their "
                        + "OperatorDescriptor to BuiltInOperators.all()");
    }

    @Test
    void twoEnginesForOneOperatorAreRefused() {
        assertThatThrownBy(() -> new Operators(new NoopOperator(), named("noop")))
                .hasMessageStartingWith("two engines for operator 'noop'");
    }

    private static Operator named(String name) {
        return new Operator() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Map<String, Object> run(TaskContext context, Map<String, Object> with) {
                return Map.of();
            }
        };
    }
}
