package dev.anvil.activities.pipeline;

import dev.anvil.workflows.pipeline.schedule.ScheduleActivities;
import dev.anvil.workflows.pipeline.spec.SpecException;
import io.temporal.failure.ApplicationFailure;
import java.util.NoSuchElementException;

/**
 * Starts the run of one schedule tick; its id comes from the pipeline and the tick, so a retry starts
 * nothing new. The run's requester is a person (who asked for the backfill or trigger, or who
 * registered the version a tick runs), so the four-eyes rule applies to scheduled runs too.
 */
public class ScheduleActivitiesImpl implements ScheduleActivities {
    private final RunLauncher launcher;

    public ScheduleActivitiesImpl(RunLauncher launcher) {
        this.launcher = launcher;
    }

    @Override
    public String startScheduledRun(String pipeline, String logicalDate, String requestedBy) {
        String runId = pipeline + "-scheduled-" + logicalDate.replace(":", "").replace("-", "");
        try {
            return launcher.startScheduled(pipeline, runId, logicalDate, requestedBy).runId();
        } catch (NoSuchElementException | IllegalStateException | SpecException e) {
            // the pipeline was removed, its spec needs params a schedule cannot give, or nobody is known
            // to have registered it: this tick cannot run, and retrying will not change that
            throw ApplicationFailure.newNonRetryableFailure("cannot start the scheduled run of '" + pipeline
                    + "' for " + logicalDate + ": " + e.getMessage(), "ScheduledRunRejected");
        }
    }
}
