package dev.anvil.workflows.approval;

/**
 * What {@link ApprovalActivities#confirmDecision} checks: the submitted decision's id, the approval the
 * workflow is waiting on, the run's requester (four-eyes), and an idempotency key the workflow made for
 * this one Update, so the activity's retries get the same answer and any other use of the id is refused.
 */
public record DecisionToConfirm(String decisionId, String approvalId, String requester, String idempotencyKey) {}
