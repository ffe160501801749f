package dev.anvil.workflows.pipeline.schedule;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

@ActivityInterface
public interface ScheduleActivities {
    /**
     * Starts a run of the pipeline's newest registered version for one schedule tick. The run id is
     * derived from the pipeline and the logical date, so firing the same tick twice starts one run.
     *
     * @param requestedBy who asked for the run (a backfill or a trigger), or null for a tick of the schedule
     *                    itself, whose requester is the principal who registered the version it runs
     * @return the run id
     */
    @ActivityMethod(name = "StartScheduledRun")
    String startScheduledRun(String pipeline, String logicalDate, String requestedBy);
}
