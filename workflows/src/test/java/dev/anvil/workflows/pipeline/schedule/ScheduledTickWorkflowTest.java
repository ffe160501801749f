package dev.anvil.workflows.pipeline.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributes;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The action of a Temporal Schedule, started here as such a schedule starts it: with the tick in the
 * TemporalScheduledStartTime search attribute (the test service has no Schedules to start it itself).
 */
class ScheduledTickWorkflowTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(ScheduledTickWorkflowImpl.class)
            .registerSearchAttribute(ScheduledTickWorkflow.SCHEDULED_START_TIME, IndexedValueType.INDEXED_VALUE_TYPE_DATETIME)
            .setDoNotStart(true)
            .build();

    private final PipelineScheduleWorkflowTest.RecordingStarts starts = new PipelineScheduleWorkflowTest.RecordingStarts();

    @Test
    void startsTheRunOfItsTickWithTheLogicalDateTheTimerSchedulerWouldGive(TestWorkflowEnvironment env, Worker worker) {
        OffsetDateTime tick = OffsetDateTime.of(2026, 3, 1, 3, 0, 0, 0, ZoneOffset.UTC);

        String runId = tickWorkflow(env, worker, tick).run(new ScheduledTick("nightly", "0 3 * * *", true));

        String timerSchedulerText = java.time.Instant.ofEpochMilli(tick.toInstant().toEpochMilli()).toString();
        assertThat(starts.logicalDates).containsExactly(timerSchedulerText);
        assertThat(starts.logicalDates.get(0)).isEqualTo("2026-03-01T03:00:00Z");
        assertThat(starts.requesters).containsExactly("-"); // the registrant, as for a timer tick
        assertThat(runId).isEqualTo("nightly-2026-03-01T03:00:00Z");
    }

    @Test
    void withoutCatchupATickStartedAfterTheNextWasDueIsSkipped(TestWorkflowEnvironment env, Worker worker) {
        // the tick after 2026-03-01 03:00 (the next day's) is long past: a newer tick's workflow runs instead
        OffsetDateTime stale = OffsetDateTime.of(2026, 3, 1, 3, 0, 0, 0, ZoneOffset.UTC);

        String runId = tickWorkflow(env, worker, stale).run(new ScheduledTick("nightly", "0 3 * * *", false));

        assertThat(runId).isNull();
        assertThat(starts.logicalDates).isEmpty();
    }

    @Test
    void withoutCatchupTheLatestTickRuns(TestWorkflowEnvironment env, Worker worker) {
        // the latest @yearly tick before now: the one after it is months away
        java.time.Instant now = java.time.Instant.ofEpochMilli(env.currentTimeMillis());
        OffsetDateTime latest = OffsetDateTime.of(now.atOffset(ZoneOffset.UTC).getYear(), 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

        String runId = tickWorkflow(env, worker, latest).run(new ScheduledTick("yearly", "@yearly", false));

        assertThat(runId).isEqualTo("yearly-" + latest.toInstant());
        assertThat(starts.logicalDates).containsExactly(latest.toInstant().toString());
    }

    /** A tick's workflow started as a Temporal Schedule starts it: with its id and search attribute. */
    private ScheduledTickWorkflow tickWorkflow(TestWorkflowEnvironment env, Worker worker, OffsetDateTime tick) {
        worker.registerActivitiesImplementations(starts);
        env.start();
        return env.getWorkflowClient().newWorkflowStub(ScheduledTickWorkflow.class,
                WorkflowOptions.newBuilder().setTaskQueue(worker.getTaskQueue())
                        .setWorkflowId(ScheduledTickWorkflow.workflowIdPrefix("p") + "-" + tick.toInstant())
                        .setTypedSearchAttributes(SearchAttributes.newBuilder()
                                .set(SearchAttributeKey.forOffsetDateTime(ScheduledTickWorkflow.SCHEDULED_START_TIME), tick)
                                .build())
                        .build());
    }

    @Test
    void startedWithoutATickItFailsSayingWhatStartsIt(TestWorkflowEnvironment env, Worker worker) {
        worker.registerActivitiesImplementations(starts);
        env.start();
        ScheduledTickWorkflow wf = env.getWorkflowClient().newWorkflowStub(ScheduledTickWorkflow.class,
                WorkflowOptions.newBuilder().setTaskQueue(worker.getTaskQueue()).build());

        assertThatThrownBy(() -> wf.run(new ScheduledTick("nightly", "@daily", true)))
                .isInstanceOf(WorkflowFailedException.class)
                .cause().isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("TemporalScheduledStartTime")
                .hasMessageContaining("/api/pipelines/nightly/runs");
        assertThat(starts.logicalDates).isEmpty();
    }
}
