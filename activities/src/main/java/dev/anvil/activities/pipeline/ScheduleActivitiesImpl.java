package dev.anvil.activities.pipeline;

import dev.anvil.workflows.pipeline.schedule.ScheduleActivities;
import dev.anvil.workflows.pipeline.spec.SpecException;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import java.util.NoSuchElementException;

/** Starts the run of one schedule tick; its id comes from the pipeline and the tick, so a retry starts nothing new. */
public class ScheduleActivitiesImpl implements ScheduleActivities {
    private final RunLauncher launcher;

    public ScheduleActivitiesImpl(RunLauncher launcher) {
        this.launcher = launcher;
    }

    @Override
    public String startScheduledRun(String pipeline, String logicalDate) {
        String runId = pipeline + "-scheduled-" + logicalDate.replace(":", "").replace("-", "");
        try {
            return launcher.start(pipeline, runId, Map.of(), "scheduler", logicalDate).runId();
        } catch (NoSuchElementException | SpecException e) {
            // the pipeline was removed or its spec needs params a schedule cannot give: this tick
            // cannot run, and retrying will not change that
            throw ApplicationFailure.newNonRetryableFailure("cannot start the scheduled run of '" + pipeline
                    + "' for " + logicalDate + ": " + e.getMessage(), "ScheduledRunRejected");
        }
    }
}
