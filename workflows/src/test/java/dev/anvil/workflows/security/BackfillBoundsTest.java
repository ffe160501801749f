package dev.anvil.workflows.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflow;
import dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflowImpl;
import dev.anvil.workflows.pipeline.schedule.ScheduleActivities;
import dev.anvil.workflows.pipeline.schedule.ScheduleConfig;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Backfills of a minute-by-minute schedule over long ranges stay bounded and can be stopped. */
class BackfillBoundsTest {
    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineScheduleWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    /** Starts a run only when the test lets it, so that the rest of a backfill stays queued. */
    public static class GatedStarts implements ScheduleActivities {
        final Semaphore gate = new Semaphore(0);
        final List<String> started = new CopyOnWriteArrayList<>();

        @Override
        public String startScheduledRun(String pipeline, String logicalDate, String requestedBy) {
            gate.acquireUninterruptibly();
            started.add(logicalDate);
            return pipeline + "-" + logicalDate;
        }
    }

    @Test
    void repeatedBackfillsQueueAtMostTheCapAndCancellingDropsThem(TestWorkflowEnvironment env, Worker worker) throws Exception {
        GatedStarts starts = new GatedStarts();
        worker.registerActivitiesImplementations(starts);
        env.start();
        WorkflowClient client = env.getWorkflowClient();
        PipelineScheduleWorkflow wf = client.newWorkflowStub(PipelineScheduleWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(PipelineScheduleWorkflow.workflowId("every-minute")).setTaskQueue(worker.getTaskQueue()).build());
        // paused: only the backfill fires
        WorkflowClient.start(wf::run, new ScheduleConfig("every-minute", "* * * * *", false, true, env.currentTimeMillis()));
        PipelineScheduleWorkflow schedule = client.newWorkflowStub(PipelineScheduleWorkflow.class,
                PipelineScheduleWorkflow.workflowId("every-minute"));

        // 26 years, minute by minute, asked for three times
        long from = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();
        long to = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < 3; i++) {
            schedule.backfill(from, to, "bea");
        }

        int dropped = schedule.cancelBackfill();
        // one tick may already be starting (held at the gate); the rest of the cap was queued and is dropped
        assertThat(dropped).isBetween(PipelineScheduleWorkflow.MAX_BACKFILL_RUNS - 1, PipelineScheduleWorkflow.MAX_BACKFILL_RUNS);

        starts.gate.release(10_000);
        Thread.sleep(1000);
        assertThat(starts.started).hasSizeLessThanOrEqualTo(1);
        assertThat(schedule.cancelBackfill()).isZero();
    }
}
