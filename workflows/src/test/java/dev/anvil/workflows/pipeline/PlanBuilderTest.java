package dev.anvil.workflows.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlanBuilderTest {
    private static final OperatorDescriptor SLOW = new OperatorDescriptor("slow", TaskQueues.GPU,
            OperatorDescriptor.schemaFromJson("{\"type\": \"object\"}"), true)
            .withHeartbeatTimeout(Duration.ofSeconds(45)).withExecutionTimeout(Duration.ofHours(3));

    @Test
    void eachTaskIsPlannedWithItsOperatorsQueueCachingAndTimeouts() throws Exception {
        OperatorRegistry registry = OperatorRegistry.of(List.of(BuiltInOperators.NOOP, SLOW));
        PipelinePlan plan = PlanBuilder.plan(SpecLoader.load("""
                pipeline: p
                default_args: {execution_timeout: 20m}
                tasks:
                  slow: {operator: slow}
                  after: {operator: noop, upstream: [slow]}
                """, registry, Set.of()), 1, registry, Map.of(), "tester");

        PlannedTask slow = plan.tasks().get(0);
        assertThat(slow.queue()).isEqualTo(TaskQueues.GPU);
        assertThat(slow.cache()).isTrue();
        assertThat(slow.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(45));
        // the operator bounds its own attempts, whatever default_args say
        assertThat(slow.executionTimeout()).isEqualTo(Duration.ofHours(3));
        PlannedTask after = plan.tasks().get(1);
        assertThat(after.queue()).isEqualTo(TaskQueues.CPU);
        assertThat(after.cache()).as("noop is not deterministic").isFalse();
        assertThat(after.heartbeatTimeout()).isNull();
        assertThat(after.executionTimeout()).isEqualTo(Duration.ofMinutes(20));
        // a plan without cache keeps the timeouts
        assertThat(plan.withoutCache().tasks().get(0).heartbeatTimeout()).isEqualTo(Duration.ofSeconds(45));
    }
}
