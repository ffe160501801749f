package dev.anvil.workflows.rollout;

/**
 * An admitted canary task: the rollout to run as a child workflow (its id, {@code rollout-<run>-<task>}, is
 * the child's workflow id, so the rollout API steers it) and the task run it reports to.
 *
 * @param taskRunId the attempt's task run, ended by {@link CanaryTaskActivities#finish}
 * @param attempt   the attempt's number as recorded
 */
public record PreparedCanary(long taskRunId, int attempt, CanaryRequest request) {
}
