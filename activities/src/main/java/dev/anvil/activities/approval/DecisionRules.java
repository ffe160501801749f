package dev.anvil.activities.approval;

import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalDecision;
import dev.anvil.db.SubmittedDecision;
import dev.anvil.db.SubmittedDecisionStore.Refusal;
import dev.anvil.workflows.approval.ApprovalFailures;
import dev.anvil.workflows.approval.Principals;
import java.util.List;
import java.util.Optional;

/**
 * Who may count on an approval, checked against what the API recorded about the reviewer (never against
 * what a Temporal client says): the reviewer role, four-eyes against the run's requester, one decision
 * per person however their name is spelt, a comment on a reject, and a pending approval.
 */
final class DecisionRules {
    static final String REVIEWER = "reviewer";

    private DecisionRules() {}

    static Optional<Refusal> check(SubmittedDecision decision, Approval approval, List<ApprovalDecision> earlier,
                                   String requester) {
        String who = decision.principal();
        if (!approval.state().equals("pending")) {
            return refuse(ApprovalFailures.NOT_PENDING, "approval '" + approval.id() + "' is already " + approval.state()
                    + "; only pending approvals take decisions");
        }
        if (!decision.roles().contains(REVIEWER)) {
            return refuse(ApprovalFailures.NOT_REVIEWER, "'" + who + "' does not have the reviewer role");
        }
        boolean approves = decision.decision().equals(dev.anvil.workflows.approval.ApprovalDecision.APPROVE);
        if (approves && (Principals.same(who, requester) || Principals.same(who, approval.requestedBy()))) {
            return refuse(ApprovalFailures.FOUR_EYES, "'" + who + "' submitted run " + approval.runId()
                    + " and may not approve it (four-eyes rule); another reviewer must");
        }
        if (earlier.stream().anyMatch(d -> Principals.same(d.reviewer(), who))) {
            return refuse(ApprovalFailures.ALREADY_DECIDED, "'" + who + "' already decided on approval '" + approval.id()
                    + "'; " + approval.requiredApprovals() + " distinct reviewer(s) are needed");
        }
        if (!approves && (decision.comment() == null || decision.comment().isBlank())) {
            return refuse(ApprovalFailures.INVALID_DECISION, "a reject needs a comment saying why");
        }
        return Optional.empty();
    }

    private static Optional<Refusal> refuse(String type, String reason) {
        return Optional.of(new Refusal(type, reason));
    }
}
