package dev.anvil.workflows.approval;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * The database side of an approval task: the workflow waits; these record the approval (approvals,
 * approval_decisions, the task run and the audit log) and confirm each decision from what Anvil's API
 * wrote, each idempotently so a retry changes nothing.
 */
@ActivityInterface
public interface ApprovalActivities {
    /** Opens the approval (pending) and marks the task's attempt running. */
    @ActivityMethod(name = "OpenApproval")
    void open(ApprovalRequest request);

    /**
     * Confirms and counts the decision Anvil's API submitted under {@code check.decisionId()}: it must
     * exist, belong to {@code check.approvalId()}, be unused, come from a principal with the reviewer role
     * who is not the requester (for an approve; four-eyes) and has not decided on this approval yet, carry
     * a comment if it rejects, and find the approval pending. Refusals are non-retryable ApplicationFailures
     * typed from {@link ApprovalFailures}, and change nothing but the submitted decision's own state.
     */
    @ActivityMethod(name = "ConfirmApprovalDecision")
    ConfirmedDecision confirmDecision(DecisionToConfirm check);

    /**
     * Records one reviewer's decision as the {@code decide} Update named it; returns the approval's state
     * after it (pending, approved, rejected). Only runs decided before decisions were confirmed replay it.
     */
    @ActivityMethod(name = "RecordApprovalDecision")
    String recordDecision(String approvalId, String reviewer, String decision, String comment);

    /** Ends a wait that timed out: {@code rejected} (auto-reject) or {@code expired}, logged as Anvil's doing. */
    @ActivityMethod(name = "TimeOutApproval")
    String timeOut(String approvalId, boolean autoReject, String waited);

    /** The run was cancelled while the approval waited: it is expired, so nobody is asked to decide it. */
    @ActivityMethod(name = "WithdrawApproval")
    void withdraw(String approvalId);
}
