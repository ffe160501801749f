package dev.anvil.activities.approval;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.activities.LocalStackStores;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.SubmittedDecisionStore;
import dev.anvil.workflows.approval.ConfirmedDecision;
import dev.anvil.workflows.approval.DecisionToConfirm;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.UUID;

/** An approval on PostgreSQL, decisions submitted as the API submits them, and the activity that confirms them. */
public final class DecidingFixture {
    public final LocalStackStores stores;
    public final ApprovalStore approvals;
    public final SubmittedDecisionStore submitted;
    public final AuditLogStore audit;
    public final ApprovalActivitiesImpl activities;

    public DecidingFixture(String prefix) throws Exception {
        stores = LocalStackStores.open(prefix, prefix + "-" + System.nanoTime());
        approvals = new ApprovalStore(stores.db());
        submitted = new SubmittedDecisionStore(stores.db());
        audit = new AuditLogStore(stores.db());
        activities = new ApprovalActivitiesImpl(approvals, stores.taskRuns(), audit, submitted);
    }

    /** A run requested by {@code requester} waiting on approval {@code runId}.approve.1. */
    public String openApproval(String runId, String requester, int required) {
        stores.runs().create(runId, "p", null, requester);
        return approvals.create(runId + ".approve.1", runId, "approve", required, requester).id();
    }

    /** What the API writes for a reviewer's action; returns the id the workflow is sent. */
    public String submit(String approvalId, String principal, List<String> roles, String decision, String comment) {
        return submitted.submit(approvalId, principal, roles, decision, comment).id();
    }

    /** What the workflow asks, with a key of its own per Update. */
    public ConfirmedDecision confirm(String decisionId, String approvalId, String requester) {
        return activities.confirmDecision(new DecisionToConfirm(decisionId, approvalId, requester, UUID.randomUUID().toString()));
    }

    /** The refusal's type, after checking it is non-retryable and says {@code words}. */
    public String refusal(String decisionId, String approvalId, String requester, String words) {
        ApplicationFailure[] failure = new ApplicationFailure[1];
        assertThatThrownBy(() -> confirm(decisionId, approvalId, requester))
                .isInstanceOfSatisfying(ApplicationFailure.class, f -> failure[0] = f)
                .hasMessageContaining(words);
        if (!failure[0].isNonRetryable()) {
            throw new AssertionError("a refusal must not be retried: " + failure[0]);
        }
        return failure[0].getType();
    }
}
