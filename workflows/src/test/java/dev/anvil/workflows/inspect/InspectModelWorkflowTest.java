package dev.anvil.workflows.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.runs.RunStateActivities;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class InspectModelWorkflowTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(InspectModelWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private static final InspectRequest REQUEST = new InspectRequest(
            new ArtifactRef("s3://anvil-artifacts/sha256/ab/ab", "ab".repeat(32), 10, "application/onnx"), "alice");

    @Test
    void recordsTheRunAroundTheInspection(TestWorkflowEnvironment env, Worker worker) {
        InspectActivities inspect = mock(InspectActivities.class, withSettings().withoutAnnotations());
        RunStateActivities runs = mock(RunStateActivities.class, withSettings().withoutAnnotations());
        ModelReport report = new ModelReport("ab".repeat(32), 10, 7, Map.of("", 13L), "test", "g", 3, 42,
                List.of(new TensorSpec("x", "FLOAT", List.of("-1", "4"))), List.of(),
                List.of("node 'n1' (MyOp) uses domain 'com.example', which the model does not import: add an opset_import for it"));
        when(inspect.inspectModel(eq("run-1"), eq("inspect"), any())).thenReturn(report);
        worker.registerActivitiesImplementations(inspect, runs);
        env.start();

        ModelReport result = stub(env.getWorkflowClient(), worker, "run-1").inspect(REQUEST);

        assertThat(result).isEqualTo(report);
        verify(runs).runStarted("run-1");
        verify(runs).runFinished("run-1", "success", null);
    }

    @Test
    void anInvalidModelFailsTheRunOnceWithTheActivitysMessage(TestWorkflowEnvironment env, Worker worker) {
        InspectActivities inspect = mock(InspectActivities.class, withSettings().withoutAnnotations());
        RunStateActivities runs = mock(RunStateActivities.class, withSettings().withoutAnnotations());
        when(inspect.inspectModel(any(), any(), any())).thenThrow(ApplicationFailure.newNonRetryableFailure(
                "not an ONNX model: protobuf parsing failed", InspectActivities.INVALID_MODEL));
        worker.registerActivitiesImplementations(inspect, runs);
        env.start();

        assertThatThrownBy(() -> stub(env.getWorkflowClient(), worker, "run-2").inspect(REQUEST))
                .isInstanceOf(WorkflowFailedException.class);
        // non-retryable: exactly one attempt
        verify(inspect, times(1)).inspectModel(any(), any(), any());
        verify(runs).runFinished("run-2", "failed", "not an ONNX model: protobuf parsing failed");
    }

    private static InspectModelWorkflow stub(WorkflowClient client, Worker worker, String runId) {
        return client.newWorkflowStub(InspectModelWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(runId).setTaskQueue(worker.getTaskQueue()).build());
    }
}
