package dev.anvil.workflows.pipeline.schedule;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Fires a pipeline on its schedule with durable timers, so it works on the Java dev server (which has
 * no Temporal Schedules) and on a real cluster alike. Workflow id: {@code schedule-<pipeline>}.
 */
@WorkflowInterface
public interface PipelineScheduleWorkflow {
    /** A backfill makes at most this many runs; the API refuses a longer range, and the queue never holds more. */
    int MAX_BACKFILL_RUNS = 1000;

    static String workflowId(String pipeline) {
        return "schedule-" + pipeline;
    }

    @WorkflowMethod
    void run(ScheduleConfig config);

    @SignalMethod
    void pause();

    @SignalMethod
    void unpause();

    /**
     * Start a run now, in addition to the schedule (logical date = now).
     *
     * @param requestedBy the principal asking; the run's requester, whom the four-eyes rule keeps from approving it
     */
    @SignalMethod
    void triggerNow(String requestedBy);

    /**
     * Run every tick in [fromMillis, toMillis], oldest first, each with its logical date.
     *
     * @param requestedBy the principal asking; the requester of every run the backfill starts
     */
    @SignalMethod
    void backfill(long fromMillis, long toMillis, String requestedBy);

    /**
     * Drops every queued backfill or trigger-now tick that has not started yet; runs already started
     * go on (cancel them as runs).
     *
     * @return how many queued ticks were dropped
     */
    @UpdateMethod
    int cancelBackfill();

    /** A new spec version changed the schedule. */
    @SignalMethod
    void update(String cron, boolean catchup);

    /** The schedule, with the trigger-now and backfill ticks queued and not started yet as its pendingRuns. */
    @QueryMethod
    ScheduleConfig config();
}
