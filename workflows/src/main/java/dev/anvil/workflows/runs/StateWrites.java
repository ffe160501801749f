package dev.anvil.workflows.runs;

import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.common.RetryOptions;
import java.time.Duration;

/**
 * Activity options for run- and task-state writes. They are tiny database updates, and they retry
 * longer than the work itself: a run whose state never reaches the database looks stuck to everyone
 * listing runs.
 */
public final class StateWrites {
    private static final RetryOptions RETRY = RetryOptions.newBuilder()
            .setInitialInterval(Duration.ofSeconds(1))
            .setBackoffCoefficient(2)
            .setMaximumInterval(Duration.ofMinutes(1))
            .setMaximumAttempts(20)
            .build();

    public static final ActivityOptions OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RETRY)
            .build();

    /**
     * The same writes as local activities: the worker that runs the workflow task runs them itself and records
     * the result as a marker in the same workflow task, instead of an activity task on the queue and a second
     * workflow task for its result. Retries are the same; a retry that waits longer than the SDK's local retry
     * threshold goes through a timer.
     */
    public static final LocalActivityOptions LOCAL_OPTIONS = LocalActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RETRY)
            .build();

    private StateWrites() {}
}
