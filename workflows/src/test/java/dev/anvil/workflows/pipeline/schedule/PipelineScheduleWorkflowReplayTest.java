package dev.anvil.workflows.pipeline.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.anvil.workflows.RecordedHistories;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.NonDeterministicException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Recorded histories of the scheduler. {@value #PAUSE_BACKFILL} is a schedule that fires two hourly
 * ticks, is paused, is asked for a backfill and, while the backfill's first run is starting (its
 * execution's last tick), for a trigger-now; it continues as new with the rest queued, and
 * {@value #PAUSE_BACKFILL_RUN2} fires them and is cancelled. {@code RecordedHistoriesReplayTest} replays them on
 * today's code; this class checks what they cover and records them anew, only on purpose, with every
 * other history ({@value RecordedHistories#RECORD_COMMAND}).
 *
 * <p>{@value #BEFORE_CARRY} is frozen: recorded at commit 3f03a26, before
 * {@code PipelineScheduleWorkflowImpl.CARRY_PENDING_RUNS}, from a paused schedule that fired a
 * 102-tick backfill in one execution and then, asked for a trigger-now, continued as new without it
 * (the lost signal that change fixes). Today's code cannot record it again; it proves that executions
 * started before the change still replay, down the old path.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineScheduleWorkflowReplayTest {

    static final String PAUSE_BACKFILL = "schedule-pause-backfill";
    static final String PAUSE_BACKFILL_RUN2 = PAUSE_BACKFILL + "-run2";
    static final String BEFORE_CARRY = "schedule-before-carry";

    @Test
    void recordedSchedulesEndAsTheirScenariosSay() {
        WorkflowExecutionHistory first = RecordedHistories.load(PAUSE_BACKFILL);
        assertThat(first.getLastEvent().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
        assertThat(signals(first)).containsExactly("pause", "backfill", "triggerNow");
        assertThat(count(first, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)).isEqualTo(3);
        assertThat(count(first, EventType.EVENT_TYPE_MARKER_RECORDED)).isEqualTo(1); // Workflow.getVersion
        ScheduleConfig carried = config(first.getLastEvent().getWorkflowExecutionContinuedAsNewEventAttributes().getInput());
        assertThat(carried.paused()).isTrue();
        assertThat(carried.pendingRuns()).extracting(PendingRun::requestedBy).containsExactly("bea", "tess");

        WorkflowExecutionHistory second = RecordedHistories.load(PAUSE_BACKFILL_RUN2);
        assertThat(config(second.getEvents().get(0).getWorkflowExecutionStartedEventAttributes().getInput())
                .pendingRuns()).hasSize(2);
        assertThat(count(second, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)).isEqualTo(2);
        assertThat(second.getLastEvent().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);

        WorkflowExecutionHistory before = RecordedHistories.load(BEFORE_CARRY);
        assertThat(before.getLastEvent().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
        assertThat(count(before, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)).isEqualTo(102);
        assertThat(count(before, EventType.EVENT_TYPE_MARKER_RECORDED)).isZero();
        assertThat(signals(before)).containsExactly("backfill", "triggerNow");
        assertThat(config(before.getLastEvent().getWorkflowExecutionContinuedAsNewEventAttributes().getInput())
                .pendingRuns()).isEmpty();
    }

    @Test
    void carryingTheQueueWithoutGetVersionWouldBreakSchedulersStartedBefore() {
        // the old execution fired its 101st and 102nd queued tick; the new path, unversioned, continues as new instead
        assertThatThrownBy(() -> WorkflowReplayer.replayWorkflowExecution(RecordedHistories.load(BEFORE_CARRY),
                CarriesWithoutVersion.class))
                .satisfies(t -> assertThat(causes(t)).anyMatch(c -> c instanceof NonDeterministicException
                        || String.valueOf(c.getMessage()).contains(NonDeterministicException.class.getName())));
    }

    /** The carry-pending-runs change as it would be without Workflow.getVersion. */
    public static class CarriesWithoutVersion extends PipelineScheduleWorkflowImpl {
        @Override
        boolean carriesPendingRuns() {
            return true;
        }
    }

    private static List<Throwable> causes(Throwable thrown) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = thrown; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private static List<String> signals(WorkflowExecutionHistory history) {
        return history.getEvents().stream().filter(HistoryEvent::hasWorkflowExecutionSignaledEventAttributes)
                .map(e -> e.getWorkflowExecutionSignaledEventAttributes().getSignalName()).toList();
    }

    private static long count(WorkflowExecutionHistory history, EventType type) {
        return history.getEvents().stream().filter(e -> e.getEventType() == type).count();
    }

    private static ScheduleConfig config(Payloads input) {
        return DefaultDataConverter.newDefaultInstance()
                .fromPayloads(0, Optional.of(input), ScheduleConfig.class, ScheduleConfig.class);
    }

    // ---- recording: run the scenarios for real and write their histories ----

    @Test
    @Order(0)
    @EnabledIfSystemProperty(named = RecordedHistories.RECORD_PROPERTY, matches = "true")
    void recordHistories() {
        ScheduleLostSignalsTest.GatedStarts starts = new ScheduleLostSignalsTest.GatedStarts();
        List<String> names = RecordedHistories.record(PAUSE_BACKFILL, PipelineScheduleWorkflowImpl.class, List.of(starts),
                (env, worker) -> {
                    try {
                        PipelineScheduleWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineScheduleWorkflow.class,
                                WorkflowOptions.newBuilder().setWorkflowId(PAUSE_BACKFILL)
                                        .setTaskQueue(RecordedHistories.TASK_QUEUE).build());
                        WorkflowClient.start(wf::run, new ScheduleConfig("nightly", "@hourly", true, false,
                                env.currentTimeMillis()).withTicksPerExecution(3));
                        PipelineScheduleWorkflow schedule = env.getWorkflowClient()
                                .newWorkflowStub(PipelineScheduleWorkflow.class, PAUSE_BACKFILL);
                        starts.permits.release(2);
                        env.sleep(Duration.ofHours(2));
                        await("two ticks").atMost(Duration.ofSeconds(30)).until(() -> starts.runs.size() == 2);
                        schedule.pause();
                        env.sleep(Duration.ofHours(3));
                        schedule.backfill(ms("2026-01-01T00:00:00Z"), ms("2026-01-01T01:00:00Z"), "bea");
                        await("the backfill's first run is starting").atMost(Duration.ofSeconds(30))
                                .until(() -> starts.calls.get() == 3);
                        schedule.triggerNow("tess");
                        starts.permits.release(100);
                        await("every asked-for run").atMost(Duration.ofSeconds(30))
                                .until(() -> starts.runs.size() == 5 && schedule.config().pendingRuns().isEmpty());
                        // a schedule runs until stopped: cancel it (the replayer cannot replay a terminated history)
                        env.getWorkflowClient().newUntypedWorkflowStub(PAUSE_BACKFILL).cancel();
                        await("cancelled").atMost(Duration.ofSeconds(30)).until(() -> env.getWorkflowClient()
                                .fetchHistory(PAUSE_BACKFILL).getLastEvent().getEventType()
                                == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
                    } finally {
                        starts.permits.release(100_000); // never leave a run start waiting when the scenario fails
                    }
                });
        assertThat(names).containsExactly(PAUSE_BACKFILL, PAUSE_BACKFILL_RUN2);
        assertThat(starts.runs).hasSize(5).doesNotHaveDuplicates();
    }

    private static long ms(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }
}
