package dev.anvil.workflows.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.workflows.RecordedHistories;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Recorded histories of real {@link WebhookDeliveryWorkflowImpl} deliveries: one accepted after a failed
 * attempt, and one whose attempts all failed (given up). {@code RecordedHistoriesReplayTest} replays them
 * on today's code; this class checks what they cover and records them anew, only on purpose, with every
 * other history ({@value RecordedHistories#RECORD_COMMAND}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebhookDeliveryWorkflowReplayTest {

    static final String RETRIED = "webhook-delivered-after-retry";
    static final String GAVE_UP = "webhook-gave-up";

    @Test
    void recordedDeliveriesEndAsTheirScenariosSay() {
        assertThat(result(RETRIED)).isEqualTo("\"delivered\"");
        assertThat(activities(RETRIED)).containsExactly("PostWebhook");
        assertThat(attempts(RETRIED)).isEqualTo(2);
        assertThat(result(GAVE_UP)).isEqualTo("\"failed\"");
        assertThat(activities(GAVE_UP)).containsExactly("PostWebhook", "GiveUpWebhook");
        assertThat(attempts(GAVE_UP)).isEqualTo(3);
    }

    private static String result(String name) {
        WorkflowExecutionHistory history = RecordedHistories.load(name);
        assertThat(history.getLastEvent().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
        return history.getLastEvent().getWorkflowExecutionCompletedEventAttributes().getResult().getPayloads(0)
                .getData().toStringUtf8();
    }

    private static List<String> activities(String name) {
        return RecordedHistories.load(name).getEvents().stream()
                .filter(e -> e.hasActivityTaskScheduledEventAttributes())
                .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName()).toList();
    }

    /** The attempt number of the first activity's end (its retries happen inside the activity task). */
    private static int attempts(String name) {
        return RecordedHistories.load(name).getEvents().stream()
                .filter(e -> e.hasActivityTaskStartedEventAttributes())
                .map(e -> e.getActivityTaskStartedEventAttributes().getAttempt()).findFirst().orElse(0);
    }

    // ---- recording: run the scenarios for real and write their histories ----

    @Test
    @Order(0)
    @EnabledIfSystemProperty(named = RecordedHistories.RECORD_PROPERTY, matches = "true")
    void recordHistories() {
        RecordedHistories.record(RETRIED, WebhookDeliveryWorkflowImpl.class, List.of(new FakeReceiver(1)),
                (env, worker) -> assertThat(deliver(env, RETRIED)).isEqualTo("delivered"));
        RecordedHistories.record(GAVE_UP, WebhookDeliveryWorkflowImpl.class, List.of(new FakeReceiver(Integer.MAX_VALUE)),
                (env, worker) -> assertThat(deliver(env, GAVE_UP)).isEqualTo("failed"));
    }

    private static String deliver(TestWorkflowEnvironment env, String id) {
        WebhookDeliveryWorkflow wf = env.getWorkflowClient().newWorkflowStub(WebhookDeliveryWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(RecordedHistories.TASK_QUEUE).build());
        WorkflowClient.start(wf::deliver, new WebhookDelivery(7, 10_000, 60_000, 3));
        return WorkflowStub.fromTyped(wf).getResult(String.class);
    }

    /** A receiver that answers 500 to the first {@code failures} attempts and accepts the rest. */
    static final class FakeReceiver implements WebhookActivities {
        private final int failures;
        private final AtomicInteger attempts = new AtomicInteger();
        final List<String> gaveUp = new ArrayList<>();

        FakeReceiver(int failures) {
            this.failures = failures;
        }

        @Override
        public void post(long deliveryId) {
            if (attempts.incrementAndGet() <= failures) {
                throw ApplicationFailure.newFailure("the receiver answered 500", "WebhookAttemptFailed");
            }
        }

        @Override
        public void giveUp(long deliveryId, String error) {
            gaveUp.add(error);
        }
    }
}
