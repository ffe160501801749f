package dev.anvil.workflows.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.workflows.RecordedHistories;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Recorded histories of real {@link CanaryRolloutWorkflowImpl} rollouts: paused, resumed and promoted
 * by a person; rolled back on its own when the canary's analysis failed; aborted by a person.
 * {@code RecordedHistoriesReplayTest} replays them on today's code; this class checks what they cover
 * and records them anew, only on purpose, with every other history
 * ({@value RecordedHistories#RECORD_COMMAND}). A failing replay is never fixed by re-recording: it
 * means rollouts in flight would break (see docs/workflow-versioning.md).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CanaryRolloutWorkflowReplayTest {

    static final String PROMOTED = "canary-pause-resume-promote";
    static final String ROLLED_BACK = "canary-rolled-back";
    static final String ABORTED = "canary-aborted";

    private static final Duration INTERVAL = Duration.ofMinutes(10);

    @Test
    void recordedRolloutsEndAsTheirScenariosSay() {
        CanaryResult promoted = result(PROMOTED);
        assertThat(promoted.state()).isEqualTo("promoted");
        assertThat(promoted.decidedBy()).isEqualTo("alice");
        assertThat(promoted.analyses()).extracting(Analysis::verdict).containsOnly("pass").isNotEmpty();
        assertThat(updates(PROMOTED)).isEqualTo(3); // pause, resume, promote

        CanaryResult rolledBack = result(ROLLED_BACK);
        assertThat(rolledBack.state()).isEqualTo("rolled_back");
        assertThat(rolledBack.decidedBy()).isEqualTo("anvil");
        assertThat(rolledBack.analyses()).extracting(Analysis::verdict).containsExactly("fail");
        assertThat(updates(ROLLED_BACK)).isZero();

        CanaryResult aborted = result(ABORTED);
        assertThat(aborted.state()).isEqualTo("aborted");
        assertThat(aborted.decidedBy()).isEqualTo("carol");
        assertThat(updates(ABORTED)).isEqualTo(1);
    }

    private static CanaryResult result(String name) {
        WorkflowExecutionHistory history = RecordedHistories.load(name);
        assertThat(history.getLastEvent().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
        Payloads result = history.getLastEvent().getWorkflowExecutionCompletedEventAttributes().getResult();
        return DefaultDataConverter.newDefaultInstance()
                .fromPayloads(0, Optional.of(result), CanaryResult.class, CanaryResult.class);
    }

    private static long updates(String name) {
        return RecordedHistories.load(name).getEvents().stream()
                .filter(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).count();
    }

    // ---- recording: run the scenarios for real and write their histories ----

    @Test
    @Order(0)
    @EnabledIfSystemProperty(named = RecordedHistories.RECORD_PROPERTY, matches = "true")
    void recordHistories() {
        RecordedHistories.record(PROMOTED, CanaryRolloutWorkflowImpl.class, List.of(new FakeRollout(10_000, 0, 0)),
                (env, worker) -> {
                    CanaryRolloutWorkflow rollout = start(env, PROMOTED);
                    env.sleep(INTERVAL.plusMinutes(5)); // the first step passed; the second is measuring
                    rollout.pause(new RolloutControl("bob", "looking at a dashboard"));
                    env.sleep(INTERVAL.multipliedBy(2));
                    rollout.resume(new RolloutControl("bob", null));
                    rollout.promote(new RolloutControl("alice", "the dashboard agrees"));
                    assertThat(WorkflowStub.fromTyped(rollout).getResult(CanaryResult.class).state()).isEqualTo("promoted");
                });
        RecordedHistories.record(ROLLED_BACK, CanaryRolloutWorkflowImpl.class, List.of(new FakeRollout(10_000, 0.05, 0)),
                (env, worker) -> {
                    CanaryRolloutWorkflow rollout = start(env, ROLLED_BACK);
                    assertThat(WorkflowStub.fromTyped(rollout).getResult(CanaryResult.class).state())
                            .isEqualTo("rolled_back");
                });
        RecordedHistories.record(ABORTED, CanaryRolloutWorkflowImpl.class, List.of(new FakeRollout(10_000, 0, 0)),
                (env, worker) -> {
                    CanaryRolloutWorkflow rollout = start(env, ABORTED);
                    env.sleep(INTERVAL.plusMinutes(5));
                    rollout.abort(new RolloutControl("carol", "odd answers for class 7"));
                    assertThat(WorkflowStub.fromTyped(rollout).getResult(CanaryResult.class).state()).isEqualTo("aborted");
                });
    }

    private static CanaryRolloutWorkflow start(TestWorkflowEnvironment env, String rolloutId) {
        CanaryRolloutWorkflow rollout = env.getWorkflowClient().newWorkflowStub(CanaryRolloutWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(rolloutId).setTaskQueue(RecordedHistories.TASK_QUEUE).build());
        WorkflowClient.start(rollout::run, new CanaryRequest(rolloutId, "digits", "ab".repeat(32), List.of(5, 25, 50, 100),
                INTERVAL.toSeconds(), 200, 0.01, 1.2, 2, null, "recorder"));
        return rollout;
    }
}
