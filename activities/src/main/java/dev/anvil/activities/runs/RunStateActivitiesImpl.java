package dev.anvil.activities.runs;

import dev.anvil.db.PipelineRunStore;
import dev.anvil.workflows.runs.RunStateActivities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes run state changes to PostgreSQL; the store ignores repeats, so retries are harmless. A run that ends
 * frees a slot of its pipeline's {@code max_active_runs}: {@code onRunEnded} starts the runs waiting for one.
 */
public class RunStateActivitiesImpl implements RunStateActivities {
    private static final Logger LOG = LoggerFactory.getLogger(RunStateActivitiesImpl.class);

    private final PipelineRunStore runs;
    private final Runnable onRunEnded;

    public RunStateActivitiesImpl(PipelineRunStore runs) {
        this(runs, () -> { });
    }

    public RunStateActivitiesImpl(PipelineRunStore runs, Runnable onRunEnded) {
        this.runs = runs;
        this.onRunEnded = onRunEnded;
    }

    @Override
    public void runStarted(String runId) {
        runs.updateStatus(runId, "running");
    }

    @Override
    public void runFinished(String runId, String status, String error) {
        if ("failed".equals(status)) {
            runs.markFailed(runId, error == null ? "failed" : error);
        } else {
            runs.updateStatus(runId, status);
        }
        try {
            onRunEnded.run();
        } catch (RuntimeException e) {
            // the periodic sweep starts them instead; the run's own end is recorded either way
            LOG.warn("run {} ended; starting runs that waited for its slot failed for now: {}", runId, e.getMessage());
        }
    }
}
