package dev.anvil.activities.runs;

import dev.anvil.db.PipelineRunStore;
import dev.anvil.workflows.runs.RunStateActivities;

/** Writes run state changes to PostgreSQL; the store ignores repeats, so retries are harmless. */
public class RunStateActivitiesImpl implements RunStateActivities {
    private final PipelineRunStore runs;

    public RunStateActivitiesImpl(PipelineRunStore runs) {
        this.runs = runs;
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
    }
}
