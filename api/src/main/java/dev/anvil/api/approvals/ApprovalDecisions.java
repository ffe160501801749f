package dev.anvil.api.approvals;

import dev.anvil.api.auth.Caller;
import dev.anvil.api.auth.Role;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalDecision;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.SubmittedDecisionStore;
import dev.anvil.workflows.approval.ApprovalFailures;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.approval.Principals;
import dev.anvil.workflows.approval.RecordedDecision;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Delivers a reviewer's decision to the run's workflow, for the REST API and the web UI alike: it writes
 * the decision with the authenticated principal and roles to PostgreSQL first, then sends the
 * {@code decideRecorded} Update carrying only the row's id. The workflow counts it once its activity has
 * confirmed the row, so nobody who reaches Temporal without this API can decide. The checks here give
 * each refusal its HTTP status (403 role or four-eyes, 409 not pending or already decided, 400 reject
 * without comment) before anything is written; the activity checks them again and stays the authority.
 */
@ApplicationScoped
public class ApprovalDecisions {
    @Inject ApprovalStore approvals;
    @Inject SubmittedDecisionStore submitted;
    @Inject WorkflowClient client;

    public Map<String, Object> decide(String id, Caller who, String decision, String comment) {
        Approval approval = approvals.find(id).orElseThrow(() -> ProblemException.notFound("no approval with id '" + id
                + "'; GET /api/approvals?state=pending lists the waiting ones"));
        if (!who.has(Role.REVIEWER)) {
            throw new ProblemException(403, "Forbidden", "'" + who.principal() + "' may not decide approvals: it needs the role reviewer",
                    List.of());
        }
        if (decision.equals("reject") && (comment == null || comment.isBlank())) {
            throw ProblemException.badRequest("comment", "a reject needs a comment saying why: {\"comment\": \"...\"}");
        }
        if (!approval.state().equals("pending")) {
            throw conflict("approval '" + id + "' is already " + approval.state() + "; only pending approvals take decisions");
        }
        if (decision.equals("approve") && Principals.same(who.principal(), approval.requestedBy())) {
            throw new ProblemException(403, "Forbidden", "'" + who.principal() + "' submitted run " + approval.runId()
                    + " and may not approve it (four-eyes rule); another reviewer must", List.of());
        }
        if (approvals.decisions(id).stream().map(ApprovalDecision::reviewer).anyMatch(reviewer -> Principals.same(reviewer, who.principal()))) {
            throw conflict("'" + who.principal() + "' already decided on approval '" + id + "'; "
                    + approval.requiredApprovals() + " distinct reviewer(s) are needed");
        }
        String decisionId = submitted.submit(id, who.principal(), who.roles().stream().map(Role::wireName).toList(),
                decision, comment).id();
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class, approval.runId());
        ApprovalOutcome outcome;
        try {
            outcome = workflow.decideRecorded(new RecordedDecision(approval.taskId(), decisionId));
        } catch (WorkflowUpdateException e) {
            throw refused(e);
        } catch (WorkflowNotFoundException e) {
            throw conflict("run " + approval.runId() + " is no longer running, so approval '" + id + "' cannot be decided");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("approval", outcome.approvalId());
        body.put("state", outcome.state());
        body.put("approvedBy", outcome.approvedBy());
        body.put("requiredApprovals", outcome.requiredApprovals());
        body.put("run", approval.runId());
        return body;
    }

    /** The workflow's refusal (a decision that raced another, say) with the status its type stands for. */
    private static ProblemException refused(WorkflowUpdateException e) {
        if (!(e.getCause() instanceof ApplicationFailure app)) {
            return conflict("the run refused the decision: " + e.getMessage());
        }
        String reason = "the run refused the decision: " + app.getOriginalMessage();
        String type = app.getType() == null ? "" : app.getType();
        return switch (type) {
            case ApprovalFailures.NOT_REVIEWER, ApprovalFailures.FOUR_EYES -> new ProblemException(403, "Forbidden", reason, List.of());
            case ApprovalFailures.INVALID_DECISION -> ProblemException.badRequest("comment", reason);
            default -> conflict(reason);
        };
    }

    private static ProblemException conflict(String detail) {
        return new ProblemException(409, "Conflict", detail, List.of());
    }
}
