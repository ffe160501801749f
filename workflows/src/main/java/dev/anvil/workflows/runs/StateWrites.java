package dev.anvil.workflows.runs;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import java.time.Duration;

/**
 * Activity options for run- and task-state writes. They are tiny database updates, and they retry
 * longer than the work itself: a run whose state never reaches the database looks stuck to everyone
 * listing runs.
 */
public final class StateWrites {
    public static final ActivityOptions OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RetryOptions.newBuilder()
                    .setInitialInterval(Duration.ofSeconds(1))
                    .setBackoffCoefficient(2)
                    .setMaximumInterval(Duration.ofMinutes(1))
                    .setMaximumAttempts(20)
                    .build())
            .build();

    private StateWrites() {}
}
