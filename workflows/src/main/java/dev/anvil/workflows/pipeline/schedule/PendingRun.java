package dev.anvil.workflows.pipeline.schedule;

/**
 * A run a person asked a schedule for (trigger-now or backfill) that has not started yet.
 *
 * @param tick        its logical date (epoch millis)
 * @param requestedBy who asked: the requester of the run, whom the four-eyes rule keeps from approving it
 */
public record PendingRun(long tick, String requestedBy) {}
