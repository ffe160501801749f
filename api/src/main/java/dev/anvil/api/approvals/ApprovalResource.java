package dev.anvil.api.approvals;

import dev.anvil.api.auth.Caller;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Requires;
import dev.anvil.api.auth.Role;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalDecision;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import io.smallrye.common.annotation.Blocking;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Approvals: list them, read one with its decisions, and decide. A decision goes to the run's
 * workflow as the {@code decide} Update; the checks here (role, four-eyes, one decision per reviewer,
 * comment on reject) answer with the right status before Temporal is asked, and the workflow's
 * validator checks them again as the authority.
 */
@Path("/api/approvals")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class ApprovalResource {
    @Inject ApprovalStore approvals;
    @Inject PipelineRunStore runs;
    @Inject WorkflowClient client;
    @Inject CurrentCaller caller;

    public record DecisionRequest(String comment) {}

    /** Newest request first; {@code state} is one of pending, approved, rejected, expired. */
    @GET
    public List<Map<String, Object>> list(@QueryParam("state") String state,
                                          @QueryParam("limit") @DefaultValue("100") int limit) {
        if (state != null && !Approval.STATES.contains(state)) {
            throw ProblemException.badRequest("state", "unknown approval state '" + state + "'; expected one of " + Approval.STATES);
        }
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        return approvals.list(state, limit).stream().map(this::view).toList();
    }

    @GET
    @Path("/{id}")
    public Map<String, Object> get(@PathParam("id") String id) {
        Map<String, Object> view = view(find(id));
        view.put("decisions", approvals.decisions(id));
        return view;
    }

    @POST
    @Path("/{id}/approve")
    @Consumes(MediaType.WILDCARD)
    @Requires(Role.REVIEWER)
    public Map<String, Object> approve(@PathParam("id") String id, DecisionRequest body) {
        return decide(id, "approve", body == null ? null : body.comment());
    }

    @POST
    @Path("/{id}/reject")
    @Consumes(MediaType.WILDCARD)
    @Requires(Role.REVIEWER)
    public Map<String, Object> reject(@PathParam("id") String id, DecisionRequest body) {
        String comment = body == null ? null : body.comment();
        if (comment == null || comment.isBlank()) {
            throw ProblemException.badRequest("comment", "a reject needs a comment saying why: {\"comment\": \"...\"}");
        }
        return decide(id, "reject", comment);
    }

    private Map<String, Object> decide(String id, String decision, String comment) {
        Approval approval = find(id);
        Caller who = caller.require();
        if (!approval.state().equals("pending")) {
            throw conflict("approval '" + id + "' is already " + approval.state() + "; only pending approvals take decisions");
        }
        if (decision.equals("approve") && who.principal().equals(approval.requestedBy())) {
            throw new ProblemException(403, "Forbidden", "'" + who.principal() + "' submitted run " + approval.runId()
                    + " and may not approve it (four-eyes rule); another reviewer must", List.of());
        }
        if (approvals.decisions(id).stream().map(ApprovalDecision::reviewer).anyMatch(who.principal()::equals)) {
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

    private Approval find(String id) {
        return approvals.find(id).orElseThrow(() -> ProblemException.notFound("no approval with id '" + id
                + "'; GET /api/approvals?state=pending lists the waiting ones"));
    }

    private static ProblemException conflict(String detail) {
        return new ProblemException(409, "Conflict", detail, List.of());
    }

    private Map<String, Object> view(Approval a) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", a.id());
        v.put("run", a.runId());
        v.put("task", a.taskId());
        v.put("state", a.state());
        v.put("requiredApprovals", a.requiredApprovals());
        v.put("requestedBy", a.requestedBy());
        v.put("requestedAt", a.requestedAt());
        v.put("decidedAt", a.decidedAt());
        v.put("pipeline", runs.find(a.runId()).map(PipelineRun::pipeline).orElse(null));
        return v;
    }
}
