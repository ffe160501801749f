package dev.anvil.workflows.pipeline.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.workflows.RecordedHistories;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributes;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Recorded histories of {@link ScheduledTickWorkflowImpl}, the action of a pipeline's Temporal Schedule: a tick
 * that starts its run, and a stale tick of a schedule without catch-up that skips itself.
 * {@code RecordedHistoriesReplayTest} replays them on today's code; this class checks what they cover and records
 * them anew, only on purpose, with every other history ({@value RecordedHistories#RECORD_COMMAND}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScheduledTickWorkflowReplayTest {

    static final String RAN = "scheduled-tick-ran";
    static final String SKIPPED = "scheduled-tick-skipped";

    @Test
    void recordedTicksEndAsTheirScenariosSay() {
        assertThat(result(RAN)).isEqualTo("\"nightly-2026-03-01T03:00:00Z\"");
        assertThat(activities(RAN)).containsExactly("StartScheduledRun");
        assertThat(result(SKIPPED)).isEqualTo("binary/null"); // a null run id: the tick was skipped
        assertThat(activities(SKIPPED)).isEmpty();
    }

    private static String result(String name) {
        WorkflowExecutionHistory history = RecordedHistories.load(name);
        assertThat(history.getLastEvent().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
        io.temporal.api.common.v1.Payload payload =
                history.getLastEvent().getWorkflowExecutionCompletedEventAttributes().getResult().getPayloads(0);
        // a null result has no data, only its encoding
        return payload.getData().isEmpty() ? payload.getMetadataOrThrow("encoding").toStringUtf8()
                : payload.getData().toStringUtf8();
    }

    private static List<String> activities(String name) {
        return RecordedHistories.load(name).getEvents().stream()
                .filter(e -> e.hasActivityTaskScheduledEventAttributes())
                .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName()).toList();
    }

    // ---- recording: run the scenarios for real and write their histories ----

    @Test
    @Order(0)
    @EnabledIfSystemProperty(named = RecordedHistories.RECORD_PROPERTY, matches = "true")
    void recordHistories() {
        OffsetDateTime tick = OffsetDateTime.of(2026, 3, 1, 3, 0, 0, 0, ZoneOffset.UTC);
        RecordedHistories.record(RAN, ScheduledTickWorkflowImpl.class,
                List.of(new PipelineScheduleWorkflowTest.RecordingStarts()),
                (env, worker) -> assertThat(runTick(env, RAN, tick, true)).isEqualTo("nightly-2026-03-01T03:00:00Z"));
        // the next day's tick is long past when this one starts: without catch-up it skips itself
        RecordedHistories.record(SKIPPED, ScheduledTickWorkflowImpl.class,
                List.of(new PipelineScheduleWorkflowTest.RecordingStarts()),
                (env, worker) -> assertThat(runTick(env, SKIPPED, tick, false)).isNull());
    }

    private static String runTick(TestWorkflowEnvironment env, String id, OffsetDateTime tick, boolean catchup) {
        env.registerSearchAttribute(ScheduledTickWorkflow.SCHEDULED_START_TIME, IndexedValueType.INDEXED_VALUE_TYPE_DATETIME);
        ScheduledTickWorkflow wf = env.getWorkflowClient().newWorkflowStub(ScheduledTickWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(RecordedHistories.TASK_QUEUE)
                        .setTypedSearchAttributes(SearchAttributes.newBuilder()
                                .set(SearchAttributeKey.forOffsetDateTime(ScheduledTickWorkflow.SCHEDULED_START_TIME), tick)
                                .build())
                        .build());
        return wf.run(new ScheduledTick("nightly", "0 3 * * *", catchup));
    }
}
