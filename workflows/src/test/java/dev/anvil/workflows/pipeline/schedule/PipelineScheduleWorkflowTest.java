package dev.anvil.workflows.pipeline.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Schedules on durable timers, with time skipping: weeks pass in milliseconds. */
class PipelineScheduleWorkflowTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineScheduleWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    /** Records each tick the scheduler fires, as its logical date, and who asked for it ("-": the schedule). */
    public static class RecordingStarts implements ScheduleActivities {
        final List<String> logicalDates = new CopyOnWriteArrayList<>();
        final List<String> requesters = new CopyOnWriteArrayList<>();

        @Override
        public String startScheduledRun(String pipeline, String logicalDate, String requestedBy) {
            logicalDates.add(logicalDate);
            requesters.add(requestedBy == null ? "-" : requestedBy);
            return pipeline + "-" + logicalDate;
        }
    }

    private final RecordingStarts starts = new RecordingStarts();

    @Test
    void aWeeklyScheduleFiresPausesAndCatchesUp(TestWorkflowEnvironment env, Worker worker) {
        PipelineScheduleWorkflow schedule = start(env, worker, "@weekly", true);

        env.sleep(Duration.ofDays(21));
        assertThat(starts.logicalDates).hasSize(3).allSatisfy(PipelineScheduleWorkflowTest::isSundayMidnight);

        schedule.pause();
        env.sleep(Duration.ofDays(14));
        assertThat(starts.logicalDates).hasSize(3);
        assertThat(schedule.config().paused()).isTrue();

        // catchup: both missed weeks run, oldest first, each with its own logical date
        schedule.unpause();
        env.sleep(Duration.ofMinutes(1));
        assertThat(starts.logicalDates).hasSize(5).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void withoutCatchupOnlyTheLatestMissedTickRuns(TestWorkflowEnvironment env, Worker worker) {
        PipelineScheduleWorkflow schedule = start(env, worker, "0 3 * * *", false);
        schedule.pause();
        env.sleep(Duration.ofDays(5));
        assertThat(starts.logicalDates).isEmpty();

        schedule.unpause();
        env.sleep(Duration.ofMinutes(1));
        assertThat(starts.logicalDates).hasSize(1);
        assertThat(ZonedDateTime.ofInstant(Instant.parse(starts.logicalDates.get(0)), ZoneOffset.UTC).getHour()).isEqualTo(3);
    }

    @Test
    void triggerNowAndBackfill(TestWorkflowEnvironment env, Worker worker) {
        PipelineScheduleWorkflow schedule = start(env, worker, "@daily", true);
        schedule.triggerNow("tess");
        // the runs start in activities, in real time: wait for them rather than a fixed second
        await("the triggered run").atMost(Duration.ofSeconds(30)).until(() -> starts.logicalDates.size() == 1);
        assertThat(starts.requesters).containsExactly("tess");

        Instant from = Instant.parse("2026-01-01T00:00:00Z");
        Instant to = Instant.parse("2026-01-04T00:00:00Z");
        schedule.backfill(from.toEpochMilli(), to.toEpochMilli(), "bea");
        await("the backfilled runs").atMost(Duration.ofSeconds(30)).until(() -> starts.logicalDates.size() == 5);
        assertThat(starts.logicalDates.subList(1, starts.logicalDates.size())).containsExactly(
                "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z");
        // whoever asks for runs is their requester, for the four-eyes rule
        assertThat(starts.requesters.subList(1, starts.requesters.size())).containsOnly("bea");
    }

    @Test
    void anUpdatedScheduleTakesEffect(TestWorkflowEnvironment env, Worker worker) {
        PipelineScheduleWorkflow schedule = start(env, worker, "@yearly", true);
        env.sleep(Duration.ofDays(1));
        schedule.update("@hourly", true);
        env.sleep(Duration.ofHours(3).plusMinutes(1));
        assertThat(starts.logicalDates).hasSizeBetween(3, 4);
        assertThat(schedule.config().cron()).isEqualTo("@hourly");
    }

    @Test
    void onceFiresOneRunAndEnds(TestWorkflowEnvironment env, Worker worker) {
        start(env, worker, "@once", false);
        env.sleep(Duration.ofDays(30));
        assertThat(starts.logicalDates).hasSize(1);
        // the schedule's own tick: the activity names the registrant of the version it runs
        assertThat(starts.requesters).containsExactly("-");
    }

    private PipelineScheduleWorkflow start(TestWorkflowEnvironment env, Worker worker, String cron, boolean catchup) {
        worker.registerActivitiesImplementations(starts);
        env.start();
        WorkflowClient client = env.getWorkflowClient();
        PipelineScheduleWorkflow wf = client.newWorkflowStub(PipelineScheduleWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(PipelineScheduleWorkflow.workflowId("nightly")).setTaskQueue(worker.getTaskQueue()).build());
        WorkflowClient.start(wf::run, new ScheduleConfig("nightly", cron, catchup, false, env.currentTimeMillis()));
        return client.newWorkflowStub(PipelineScheduleWorkflow.class, PipelineScheduleWorkflow.workflowId("nightly"));
    }

    private static void isSundayMidnight(String logicalDate) {
        ZonedDateTime t = ZonedDateTime.ofInstant(Instant.parse(logicalDate), ZoneOffset.UTC);
        assertThat(t.getDayOfWeek()).isEqualTo(DayOfWeek.SUNDAY);
        assertThat(t.getHour()).isZero();
        assertThat(t.getMinute()).isZero();
    }
}
