package dev.anvil.workflows.approval;

/**
 * A decision {@link ApprovalActivities#confirmDecision} read from the database and counted: who made
 * it (as the API authenticated them), what they decided, and the approval's state after it.
 */
public record ConfirmedDecision(String reviewer, String decision, String comment, String state) {}
