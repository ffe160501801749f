package dev.anvil.activities.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
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

    @Test
    void anEngineMustCarryTheRegistrysDescriptor() {
        OperatorRegistry registry = OperatorRegistry.of(List.of(BuiltInOperators.NOOP));
        // same name, but not the registry's: another queue and no caching rules would drift apart unnoticed
        assertThatThrownBy(() -> new Operators(named("noop")).requireMatches(registry))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("engines [noop] describe their operator otherwise than the registry: return the "
                        + "registry's descriptor (BuiltInOperators) from descriptor()");
    }

    @Test
    void theWorkersOperatorsAreKeyedByTheirDescriptors() {
        Operators operators = new Operators(new SleepOperator(), new NoopOperator());
        assertThat(operators.descriptors()).containsExactly(BuiltInOperators.SLEEP, BuiltInOperators.NOOP);
        assertThat(operators.find("sleep")).get().extracting(Operator::name).isEqualTo("sleep");
    }

    private static Operator named(String name) {
        return new Operator() {
            @Override
            public OperatorDescriptor descriptor() {
                return new OperatorDescriptor(name, TaskQueues.GPU, Map.of(), false);
            }

            @Override
            public Map<String, Object> run(TaskContext context, Map<String, Object> with) {
                return Map.of();
            }
        };
    }
}
