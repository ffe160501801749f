package dev.anvil.workflows.approval;

/**
 * The payload of the {@code decideRecorded} Update: the approval task and the id under which Anvil's
 * API wrote the reviewer's decision (principal, roles, decision, comment) to PostgreSQL. It names no
 * reviewer on purpose: the workflow counts the decision only after
 * {@link ApprovalActivities#confirmDecision} has read it from the database, so whoever reaches Temporal
 * without going through the API has nothing to put here.
 */
public record RecordedDecision(String taskId, String decisionId) {}
