package dev.anvil.workflows.pipeline.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every trigger-now and backfill tick a schedule is asked for starts exactly one run, whenever its
 * signal arrives. The scheduler continues as new after a few ticks (three here, set in its input; a hundred in
 * production): signals that arrive while an execution's last run is starting, and backfills longer
 * than an execution's budget, must reach the next execution. Signals are sent while a run start is
 * held at a gate, so the moment is exact; a signal sent with the start is handled before the
 * workflow method runs.
 */
class ScheduleLostSignalsTest {
    private static final int TICKS = 3;
    private static final long HOUR = Duration.ofHours(1).toMillis();
    private static final String ID = PipelineScheduleWorkflow.workflowId("nightly");

    /** Starts runs as the test lets it: each start takes one permit, and waits for it. */
    public static class GatedStarts implements ScheduleActivities {
        final Semaphore permits = new Semaphore(0);
        final AtomicInteger calls = new AtomicInteger();
        final List<String> runs = new CopyOnWriteArrayList<>();

        @Override
        public String startScheduledRun(String pipeline, String logicalDate, String requestedBy) {
            calls.incrementAndGet();
            permits.acquireUninterruptibly();
            runs.add(logicalDate + " by " + (requestedBy == null ? "-" : requestedBy));
            return pipeline + "-" + logicalDate;
        }
    }

    private TestWorkflowEnvironment env;
    private final GatedStarts starts = new GatedStarts();

    @BeforeEach
    void startEnvironment() {
        env = TestWorkflowEnvironment.newInstance();
        // a 1000-tick backfill is a second of cron arithmetic in one handler on a loaded test machine; the
        // deadlock detector would fail that workflow task and retry it, slowly, which this class is not about
        Worker worker = env.newWorker("schedules", WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(10_000).build());
        worker.registerWorkflowImplementationTypes(PipelineScheduleWorkflowImpl.class);
        worker.registerActivitiesImplementations(starts);
        env.start();
    }

    @AfterEach
    void stopEnvironment() {
        starts.permits.release(100_000);
        env.close();
    }

    @Test
    void signalsDuringTheLastTickBeforeContinueAsNewEachStartOneRun() {
        // three hourly ticks are due at once: the third is the execution's last
        long now = env.currentTimeMillis();
        long lastFiredAt = now / HOUR * HOUR - 3 * HOUR + 1;
        starts.permits.release(2);
        WorkflowExecution first = start(new ScheduleConfig("nightly", "@hourly", true, false, lastFiredAt));
        PipelineScheduleWorkflow schedule = env.getWorkflowClient().newWorkflowStub(PipelineScheduleWorkflow.class, ID);
        await("the third tick is starting").atMost(Duration.ofSeconds(30)).until(() -> starts.calls.get() == 3);

        schedule.triggerNow("tess");
        schedule.backfill(ms("2026-01-01T00:00:00Z"), ms("2026-01-01T03:00:00Z"), "bea");
        starts.permits.release(100);
        await("every asked-for run").atMost(Duration.ofSeconds(30))
                .until(() -> starts.runs.size() >= 8 && schedule.config().pendingRuns().isEmpty());

        List<String> asked = starts.runs.subList(3, starts.runs.size());
        assertThat(asked).hasSize(5);
        assertThat(asked.get(0)).endsWith(" by tess");
        assertThat(asked.subList(1, 5)).containsExactly("2026-01-01T00:00:00Z by bea", "2026-01-01T01:00:00Z by bea",
                "2026-01-01T02:00:00Z by bea", "2026-01-01T03:00:00Z by bea");
        assertThat(starts.runs).doesNotHaveDuplicates();
        assertThat(starts.runs.subList(0, 3)).allSatisfy(r -> assertThat(r).endsWith(":00:00Z by -"));
        // the first execution handed all five on; the second started three and handed two on
        ScheduleConfig carried = continuedWith(first.getRunId());
        assertThat(carried.pendingRuns()).extracting(PendingRun::requestedBy)
                .containsExactly("tess", "bea", "bea", "bea", "bea");
        assertThat(carried.lastFiredAt()).isEqualTo(now / HOUR * HOUR);
        assertThat(versionMarkers(first.getRunId())).isEqualTo(1);
    }

    @Test
    void aBackfillLongerThanAnExecutionIsSpreadOverExecutionsInOrder() {
        starts.permits.release(2);
        // paused: only asked-for ticks run
        WorkflowExecution first = start(new ScheduleConfig("nightly", "@daily", true, true, env.currentTimeMillis()));
        PipelineScheduleWorkflow schedule = env.getWorkflowClient().newWorkflowStub(PipelineScheduleWorkflow.class, ID);
        schedule.backfill(ms("2026-01-01T00:00:00Z"), ms("2026-01-04T00:00:00Z"), "bea");
        await("the third backfilled run is starting").atMost(Duration.ofSeconds(30)).until(() -> starts.calls.get() == 3);

        schedule.triggerNow("tess");
        schedule.backfill(ms("2026-02-01T00:00:00Z"), ms("2026-02-01T00:00:00Z"), "bob");
        starts.permits.release(100);
        await("every asked-for run").atMost(Duration.ofSeconds(30))
                .until(() -> starts.runs.size() >= 6 && schedule.config().pendingRuns().isEmpty());

        // the paused schedule never fired a tick of its own
        assertThat(starts.runs).hasSize(6).doesNotHaveDuplicates();
        assertThat(starts.runs.subList(0, 4)).containsExactly("2026-01-01T00:00:00Z by bea", "2026-01-02T00:00:00Z by bea",
                "2026-01-03T00:00:00Z by bea", "2026-01-04T00:00:00Z by bea");
        assertThat(starts.runs.get(4)).endsWith(" by tess");
        assertThat(starts.runs.get(5)).isEqualTo("2026-02-01T00:00:00Z by bob");
        assertThat(continuedWith(first.getRunId()).pendingRuns()).hasSize(3);
        assertThat(schedule.config().paused()).isTrue();
    }

    @Test
    void repeatedHugeBackfillsStayCappedAcrossContinueAsNewAndCanBeCancelled() {
        starts.permits.release(2);
        WorkflowExecution first = start(new ScheduleConfig("every-minute", "* * * * *", false, true, env.currentTimeMillis()));
        PipelineScheduleWorkflow schedule = env.getWorkflowClient().newWorkflowStub(PipelineScheduleWorkflow.class, ID);
        long from = ms("2000-01-01T00:00:00Z");
        long to = ms("2026-01-01T00:00:00Z");
        schedule.backfill(from, to, "bea");
        await("the third backfilled run is starting").atMost(Duration.ofSeconds(30)).until(() -> starts.calls.get() == 3);
        for (int i = 0; i < 3; i++) {
            schedule.backfill(from, to, "bea");
        }
        starts.permits.release(1);
        await("the next execution's first run is starting").atMost(Duration.ofSeconds(30))
                .until(() -> starts.calls.get() == 4);

        // the input handed on holds at most the cap, and stays far below Temporal's 2 MB payload limit
        Payloads input = continuedAsNew(first.getRunId()).getInput();
        ScheduleConfig carried = DefaultDataConverter.newDefaultInstance()
                .fromPayloads(0, Optional.of(input), ScheduleConfig.class, ScheduleConfig.class);
        assertThat(carried.pendingRuns()).hasSize(PipelineScheduleWorkflow.MAX_BACKFILL_RUNS);
        assertThat(input.getSerializedSize()).isLessThan(256 * 1024);
        schedule.backfill(from, to, "bea");
        assertThat(schedule.config().pendingRuns()).hasSizeLessThanOrEqualTo(PipelineScheduleWorkflow.MAX_BACKFILL_RUNS);

        int dropped = schedule.cancelBackfill();
        assertThat(dropped).isBetween(PipelineScheduleWorkflow.MAX_BACKFILL_RUNS - 1, PipelineScheduleWorkflow.MAX_BACKFILL_RUNS);
        starts.permits.release(100);
        await("the run that was starting").atMost(Duration.ofSeconds(30)).until(() -> starts.runs.size() == 4);
        assertThat(schedule.config().pendingRuns()).isEmpty();
        assertThat(starts.calls.get()).isEqualTo(4);
    }

    @Test
    void signalsSentWithTheStartAreHandledOnceTheScheduleIsKnown() {
        starts.permits.release(100);
        PipelineScheduleWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineScheduleWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(ID).setTaskQueue("schedules").build());
        BatchRequest batch = env.getWorkflowClient().newSignalWithStartRequest();
        // paused, so that only the backfill fires; signal-with-start carries one signal
        batch.add(wf::run, new ScheduleConfig("nightly", "@daily", true, true, env.currentTimeMillis())
                .withTicksPerExecution(TICKS));
        batch.add(wf::backfill, ms("2026-01-01T00:00:00Z"), ms("2026-01-02T00:00:00Z"), "bea");
        env.getWorkflowClient().signalWithStart(batch);
        PipelineScheduleWorkflow schedule = env.getWorkflowClient().newWorkflowStub(PipelineScheduleWorkflow.class, ID);

        await("the backfilled runs").atMost(Duration.ofSeconds(30)).until(() -> starts.runs.size() >= 2);
        assertThat(starts.runs).containsExactly("2026-01-01T00:00:00Z by bea", "2026-01-02T00:00:00Z by bea");
        assertThat(schedule.config().paused()).isTrue();
        assertThat(schedule.config().pendingRuns()).isEmpty();
    }

    @Test
    void aTickBudgetFromTheInputIsBoundedByTheDefault() {
        ScheduleConfig base = new ScheduleConfig("nightly", "@daily", true, false, 0);
        assertThat(PipelineScheduleWorkflowImpl.ticksPerExecution(base)).isEqualTo(100);
        assertThat(PipelineScheduleWorkflowImpl.ticksPerExecution(base.withTicksPerExecution(-7))).isEqualTo(100);
        assertThat(PipelineScheduleWorkflowImpl.ticksPerExecution(base.withTicksPerExecution(Integer.MAX_VALUE)))
                .isEqualTo(100);
        assertThat(PipelineScheduleWorkflowImpl.ticksPerExecution(base.withTicksPerExecution(1))).isEqualTo(1);
        // an input recorded before these fields existed reads as an empty queue and the default budget
        Payload recorded = Payload.newBuilder().putMetadata("encoding", ByteString.copyFromUtf8("json/plain"))
                .setData(ByteString.copyFromUtf8("{\"pipeline\":\"p\",\"cron\":\"@daily\",\"catchup\":true,"
                        + "\"paused\":false,\"lastFiredAt\":5}")).build();
        ScheduleConfig old = DefaultDataConverter.newDefaultInstance()
                .fromPayload(recorded, ScheduleConfig.class, ScheduleConfig.class);
        assertThat(old.pendingRuns()).isEmpty();
        assertThat(PipelineScheduleWorkflowImpl.ticksPerExecution(old)).isEqualTo(100);
        assertThat(old.lastFiredAt()).isEqualTo(5);
    }

    private WorkflowExecution start(ScheduleConfig config) {
        PipelineScheduleWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineScheduleWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(ID).setTaskQueue("schedules").build());
        return WorkflowClient.start(wf::run, config.withTicksPerExecution(TICKS));
    }

    private io.temporal.api.history.v1.WorkflowExecutionContinuedAsNewEventAttributes continuedAsNew(String runId) {
        HistoryEvent last = env.getWorkflowClient().fetchHistory(ID, runId).getLastEvent();
        assertThat(last.getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
        return last.getWorkflowExecutionContinuedAsNewEventAttributes();
    }

    private ScheduleConfig continuedWith(String runId) {
        return DefaultDataConverter.newDefaultInstance().fromPayloads(0,
                Optional.of(continuedAsNew(runId).getInput()), ScheduleConfig.class, ScheduleConfig.class);
    }

    /** Markers in the run's history: Workflow.getVersion records one when it first decides a change. */
    private long versionMarkers(String runId) {
        List<HistoryEvent> events = new ArrayList<>(env.getWorkflowClient().fetchHistory(ID, runId).getEvents());
        return events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_MARKER_RECORDED).count();
    }

    private static long ms(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }
}
