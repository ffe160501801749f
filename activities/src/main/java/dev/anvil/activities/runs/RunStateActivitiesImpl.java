package dev.anvil.activities.runs;

import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.workflows.runs.RunStateActivities;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes run state changes to PostgreSQL; the store ignores repeats, so retries are harmless. A run that ends
 * frees a slot of its pipeline's {@code max_active_runs}: {@code onRunEnded} starts the runs waiting for one.
 */
public class RunStateActivitiesImpl implements RunStateActivities {
    private static final Logger LOG = LoggerFactory.getLogger(RunStateActivitiesImpl.class);

    private final PipelineRunStore runs;
    private final Consumer<String> onRunEnded;

    public RunStateActivitiesImpl(PipelineRunStore runs) {
        this(runs, pipeline -> { });
    }

    /** @param onRunEnded called with the pipeline of each run that ended */
    public RunStateActivitiesImpl(PipelineRunStore runs, Consumer<String> onRunEnded) {
        this.runs = runs;
        this.onRunEnded = onRunEnded;
    }

    @Override
    public void runStarted(String runId) {
        runs.updateStatus(runId, "running");
    }

    @Override
    public void runFinished(String runId, String status, String error) {
        PipelineRun ended;
        if ("failed".equals(status)) {
            ended = runs.markFailed(runId, error == null ? "failed" : error);
        } else {
            ended = runs.updateStatus(runId, status);
        }
        try {
            onRunEnded.accept(ended.pipeline());
        } catch (RuntimeException e) {
            // the periodic sweep starts them instead; the run's own end is recorded either way
            LOG.warn("run {} ended; starting runs that waited for its slot failed for now: {}", runId, e.getMessage());
        }
    }
}
