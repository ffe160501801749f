package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.workflows.TaskQueues;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OperatorDescriptorTest {

    @Test
    void everyOperatorAWorkerRunsForLongHasAHeartbeatTimeout() {
        // noop ends at once; approval is the workflow's own wait, no activity; canary's activities (checks, record)
        // are short and its rollout is a child workflow, which a human pause may hold for hours
        List<String> without = BuiltInOperators.all().stream().filter(d -> d.heartbeatTimeout().isEmpty())
                .map(OperatorDescriptor::name).toList();
        assertThat(without).containsExactly("noop", "approval", "canary");
        assertThat(BuiltInOperators.INSPECT.heartbeatTimeout()).contains(BuiltInOperators.WORKER_HEARTBEAT);
        assertThat(BuiltInOperators.EXTERNAL.heartbeatTimeout()).contains(BuiltInOperators.EXTERNAL_HEARTBEAT);
        assertThat(BuiltInOperators.EXTERNAL.executionTimeout()).contains(Duration.ofHours(6));
        assertThat(BuiltInOperators.all().stream().filter(d -> d != BuiltInOperators.EXTERNAL)
                .allMatch(d -> d.executionTimeout().isEmpty())).as("the others take the task's execution_timeout")
                .isTrue();
    }

    @Test
    void builtInsAreFoundByName() {
        assertThat(BuiltInOperators.find("quantize")).contains(BuiltInOperators.QUANTIZE);
        assertThat(BuiltInOperators.find("Quantize")).isEmpty();
        assertThat(BuiltInOperators.find("")).isEmpty();
    }

    @Test
    void timeoutsMustBePositiveAndTheQueueKnown() {
        OperatorDescriptor d = new OperatorDescriptor("x", TaskQueues.CPU, Map.of(), false);
        assertThat(d.heartbeatTimeout()).isEmpty();
        assertThatThrownBy(() -> d.withHeartbeatTimeout(Duration.ZERO))
                .hasMessage("operator 'x': the heartbeat timeout must be positive, got PT0S");
        assertThatThrownBy(() -> d.withExecutionTimeout(Duration.ofSeconds(-1)))
                .hasMessage("operator 'x': the execution timeout must be positive, got PT-1S");
        assertThatThrownBy(() -> new OperatorDescriptor("x", "anvil-tpu", Map.of(), false))
                .hasMessageContaining("unknown task queue 'anvil-tpu'");
        assertThatThrownBy(() -> new OperatorDescriptor("x", TaskQueues.CPU, Map.of(), false, null, Optional.empty()))
                .isInstanceOf(NullPointerException.class);
    }
}
