package dev.anvil.workflows.runs;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Writes run state to PostgreSQL, which is where runs are listed from: the Temporal dev server has
 * no visibility queries, and the database outlives it.
 */
@ActivityInterface
public interface RunStateActivities {
    @ActivityMethod
    void runStarted(String runId);

    /** {@code status} is a run state: success, failed or cancelled. */
    @ActivityMethod
    void runFinished(String runId, String status, String error);
}
