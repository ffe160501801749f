package dev.anvil.workflows.approval;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * The database side of an approval task: the workflow waits and decides who may decide; these record
 * it (approvals, approval_decisions, the task run and the audit log), each idempotently so a retry
 * changes nothing.
 */
@ActivityInterface
public interface ApprovalActivities {
    /** Opens the approval (pending) and marks the task's attempt running. */
    @ActivityMethod(name = "OpenApproval")
    void open(ApprovalRequest request);

    /** Records one reviewer's decision; returns the approval's state after it (pending, approved, rejected). */
    @ActivityMethod(name = "RecordApprovalDecision")
    String recordDecision(String approvalId, String reviewer, String decision, String comment);

    /** Ends a wait that timed out: {@code rejected} (auto-reject) or {@code expired}, logged as Anvil's doing. */
    @ActivityMethod(name = "TimeOutApproval")
    String timeOut(String approvalId, boolean autoReject, String waited);

    /** The run was cancelled while the approval waited: it is expired, so nobody is asked to decide it. */
    @ActivityMethod(name = "WithdrawApproval")
    void withdraw(String approvalId);
}
