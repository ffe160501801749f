package dev.anvil.api.approvals;

import dev.anvil.api.auth.Caller;
import dev.anvil.api.auth.Role;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalDecision;
import dev.anvil.db.ApprovalStore;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.approval.Principals;
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
 * Delivers a reviewer's decision to the run's workflow (the {@code decide} Update), for the REST API
 * and the web UI alike. The checks here give each refusal its HTTP status (403 role or four-eyes,
 * 409 not pending or already decided, 400 reject without comment) before Temporal is asked; the
 * workflow's validator checks them again and stays the authority.
 */
@ApplicationScoped
public class ApprovalDecisions {
    @Inject ApprovalStore approvals;
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
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class, approval.runId());
        ApprovalOutcome outcome;
        try {
            outcome = workflow.decide(new dev.anvil.workflows.approval.ApprovalDecision(approval.taskId(), who.principal(),
                    who.roles().stream().map(Role::wireName).toList(), decision, comment));
        } catch (WorkflowUpdateException e) {
            String reason = e.getCause() instanceof ApplicationFailure app ? app.getOriginalMessage() : e.getMessage();
            throw conflict("the run refused the decision: " + reason);
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

    private static ProblemException conflict(String detail) {
        return new ProblemException(409, "Conflict", detail, List.of());
    }
}
