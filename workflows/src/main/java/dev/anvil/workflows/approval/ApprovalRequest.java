package dev.anvil.workflows.approval;

/** What {@link ApprovalActivities#open} records: the approval id is made by the workflow, deterministically. */
public record ApprovalRequest(String approvalId, String runId, String taskId, int attempt, int requiredApprovals,
                              String requestedBy, String summary) {}
