package dev.anvil.workflows.pipeline.schedule;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

@ActivityInterface
public interface ScheduleActivities {
    /**
     * Starts a run of the pipeline's newest registered version for one schedule tick. The run id is
     * derived from the pipeline and the logical date, so firing the same tick twice starts one run.
     *
     * @return the run id
     */
    @ActivityMethod(name = "StartScheduledRun")
    String startScheduledRun(String pipeline, String logicalDate);
}
