package dev.anvil.activities.approval;

import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.SubmittedDecision;
import dev.anvil.db.SubmittedDecisionStore;
import dev.anvil.db.SubmittedDecisionStore.Settlement;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.approval.ApprovalActivities;
import dev.anvil.workflows.approval.ApprovalFailures;
import dev.anvil.workflows.approval.ApprovalRequest;
import dev.anvil.workflows.approval.ConfirmedDecision;
import dev.anvil.workflows.approval.DecisionToConfirm;
import io.temporal.failure.ApplicationFailure;

/**
 * Records approvals: the approval row, the task run (running while it waits), every decision (confirmed
 * from what the API submitted), and an audit entry for each (keyed so a retried activity logs once).
 */
public class ApprovalActivitiesImpl implements ApprovalActivities {
    /** Who the audit log names when Anvil itself ends an approval (timeout). */
    public static final String SYSTEM = "anvil";

    private final ApprovalStore approvals;
    private final TaskRunStore taskRuns;
    private final AuditLogStore audit;
    private final SubmittedDecisionStore submitted;

    public ApprovalActivitiesImpl(ApprovalStore approvals, TaskRunStore taskRuns, AuditLogStore audit,
                                  SubmittedDecisionStore submitted) {
        this.approvals = approvals;
        this.taskRuns = taskRuns;
        this.audit = audit;
        this.submitted = submitted;
    }

    @Override
    public void open(ApprovalRequest request) {
        taskRuns.start(request.runId(), request.taskId(), request.attempt(), "approval",
                "{\"required_approvals\": " + request.requiredApprovals() + "}");
        approvals.create(request.approvalId(), request.runId(), request.taskId(), request.requiredApprovals(),
                request.requestedBy());
        audit.append(request.requestedBy() == null ? SYSTEM : request.requestedBy(), "approval.requested",
                "run:" + request.runId(), details("approval", request.approvalId(), "task", request.taskId(),
                        "summary", request.summary()), request.approvalId() + "/requested");
    }

    @Override
    public ConfirmedDecision confirmDecision(DecisionToConfirm check) {
        Settlement settlement = submitted.settle(check.decisionId(), check.approvalId(), check.idempotencyKey(),
                (decision, approval, earlier) -> DecisionRules.check(decision, approval, earlier, check.requester()));
        if (settlement instanceof Settlement.Refused refused) {
            // whatever was wrong, asking again cannot change it
            throw ApplicationFailure.newNonRetryableFailure(refused.reason(), failureType(refused.type()));
        }
        Settlement.Accepted accepted = (Settlement.Accepted) settlement;
        SubmittedDecision decision = accepted.decision();
        audit.append(decision.principal(), "approval." + decision.decision(), "run:" + accepted.approval().runId(),
                details("approval", check.approvalId(), "task", accepted.approval().taskId(), "comment", decision.comment(),
                        "state", accepted.approval().state(), "decision", decision.id()),
                check.approvalId() + "/" + decision.principal());
        return new ConfirmedDecision(decision.principal(), decision.decision(), decision.comment(),
                accepted.approval().state());
    }

    /** The store's own refusals in the workflow's vocabulary; the rules' refusals already are. */
    private static String failureType(String type) {
        return switch (type) {
            case SubmittedDecisionStore.UNKNOWN, SubmittedDecisionStore.OTHER_APPROVAL -> ApprovalFailures.UNKNOWN_DECISION;
            case SubmittedDecisionStore.USED -> ApprovalFailures.ALREADY_DECIDED;
            default -> type;
        };
    }

    @Override
    public String recordDecision(String approvalId, String reviewer, String decision, String comment) {
        Approval after;
        try {
            after = approvals.recordDecision(approvalId, reviewer, decision, comment);
        } catch (DataAccessException e) {
            // the workflow's validator checks the same rules first; a refusal here cannot change on retry
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), "ApprovalDecisionRefused");
        }
        audit.append(reviewer, "approval." + decision, "run:" + after.runId(),
                details("approval", approvalId, "task", after.taskId(), "comment", comment, "state", after.state()),
                approvalId + "/" + reviewer);
        return after.state();
    }

    @Override
    public String timeOut(String approvalId, boolean autoReject, String waited) {
        Approval after;
        if (autoReject) {
            String comment = "rejected automatically: no decision within " + waited;
            after = approvals.find(approvalId).orElseThrow();
            if (after.state().equals("pending")) {
                after = approvals.recordDecision(approvalId, SYSTEM, "reject", comment);
            }
        } else {
            after = approvals.expire(approvalId, "no decision within " + waited);
        }
        audit.append(SYSTEM, autoReject ? "approval.auto_rejected" : "approval.expired", "run:" + after.runId(),
                details("approval", approvalId, "task", after.taskId(), "waited", waited), approvalId + "/timeout");
        return after.state();
    }

    @Override
    public void withdraw(String approvalId) {
        Approval after = approvals.expire(approvalId, "the run was cancelled");
        audit.append(SYSTEM, "approval.withdrawn", "run:" + after.runId(),
                details("approval", approvalId, "task", after.taskId(), "reason", "the run was cancelled"),
                approvalId + "/withdrawn");
    }

    /** A flat JSON object of string pairs (nulls left out). */
    static String details(String... pairs) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i + 1] == null) {
                continue;
            }
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append(quote(pairs[i])).append(": ").append(quote(pairs[i + 1]));
        }
        return out.append("}").toString();
    }

    private static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                case '\r' -> q.append("\\r");
                case '\t' -> q.append("\\t");
                default -> {
                    if (c < 0x20) {
                        q.append(String.format("\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
                }
            }
        }
        return q.append('"').toString();
    }
}
