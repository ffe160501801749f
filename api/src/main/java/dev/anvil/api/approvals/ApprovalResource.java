package dev.anvil.api.approvals;

import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
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
    @Inject CurrentCaller caller;
    @Inject ApprovalDecisions decisions;

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
    @RolesAllowed(Roles.REVIEWER)
    public Map<String, Object> approve(@PathParam("id") String id, DecisionRequest body) {
        return decide(id, "approve", body == null ? null : body.comment());
    }

    @POST
    @Path("/{id}/reject")
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed(Roles.REVIEWER)
    public Map<String, Object> reject(@PathParam("id") String id, DecisionRequest body) {
        return decide(id, "reject", body == null ? null : body.comment());
    }

    private Map<String, Object> decide(String id, String decision, String comment) {
        return decisions.decide(id, caller.require(), decision, comment);
    }

    private Approval find(String id) {
        return approvals.find(id).orElseThrow(() -> ProblemException.notFound("no approval with id '" + id
                + "'; GET /api/approvals?state=pending lists the waiting ones"));
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
