package dev.anvil.workflows.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.RecordedHistories;
import dev.anvil.workflows.runs.RunStateActivities;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Recorded histories of real {@link InspectModelWorkflowImpl} runs: one that succeeds, one whose model
 * is invalid and fails without retries. {@code RecordedHistoriesReplayTest} replays them on today's
 * code; this class checks what they cover and records them anew, only on purpose, with every other
 * history ({@value RecordedHistories#RECORD_COMMAND}). See {@code PipelineWorkflowReplayTest} for why
 * a failing replay is never fixed by re-recording.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InspectModelWorkflowReplayTest {

    static final String SUCCESS = "inspect-model-success";
    static final String INVALID_MODEL = "inspect-model-invalid";

    private static final InspectRequest REQUEST = new InspectRequest(
            new ArtifactRef("s3://anvil-artifacts/sha256/ab/ab", "ab".repeat(32), 10, "application/onnx"), "alice");

    @Test
    void recordedRunsEndAsTheirScenariosSay() {
        assertThat(RecordedHistories.load(SUCCESS).getLastEvent().getEventType())
                .isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
        assertThat(RecordedHistories.load(INVALID_MODEL).getLastEvent().getEventType())
                .isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
    }

    @Test
    @Order(0)
    @EnabledIfSystemProperty(named = RecordedHistories.RECORD_PROPERTY, matches = "true")
    void recordHistories() {
        InspectActivities ok = mock(InspectActivities.class, withSettings().withoutAnnotations());
        when(ok.inspectModel(any(), any(), any())).thenReturn(new ModelReport("ab".repeat(32), 10, 7,
                Map.of("", 13L), "test", "g", 3, 42, List.of(new TensorSpec("x", "FLOAT", List.of("-1", "4"))),
                List.of(new TensorSpec("y", "FLOAT", List.of("-1", "10"))), List.of()));
        record(SUCCESS, ok, false);

        InspectActivities invalid = mock(InspectActivities.class, withSettings().withoutAnnotations());
        when(invalid.inspectModel(any(), any(), any())).thenThrow(ApplicationFailure.newNonRetryableFailure(
                "not an ONNX model: protobuf parsing failed", InspectActivities.INVALID_MODEL));
        record(INVALID_MODEL, invalid, true);
    }

    private static void record(String runId, InspectActivities inspect, boolean fails) {
        RecordedHistories.record(runId, InspectModelWorkflowImpl.class,
                List.of(inspect, mock(RunStateActivities.class, withSettings().withoutAnnotations())), (env, worker) -> {
                    InspectModelWorkflow wf = env.getWorkflowClient().newWorkflowStub(InspectModelWorkflow.class,
                            WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(worker.getTaskQueue()).build());
                    if (fails) {
                        assertThatThrownBy(() -> wf.inspect(REQUEST)).isInstanceOf(WorkflowFailedException.class);
                    } else {
                        assertThat(wf.inspect(REQUEST).nodeCount()).isEqualTo(3);
                    }
                });
    }
}
