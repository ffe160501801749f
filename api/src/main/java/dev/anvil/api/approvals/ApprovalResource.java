package dev.anvil.api.approvals;

import dev.anvil.api.ApiDocumentFilter;
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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Approvals: list them, read one with its decisions, and decide. A decision is written to PostgreSQL
 * with the caller's principal and roles, and the run's workflow is sent only its id
 * ({@link ApprovalDecisions}); the checks there (role, four-eyes, one decision per reviewer, comment on
 * reject) answer with the right status first, and the workflow's activity checks them again as the
 * authority.
 */
@Path("/api/approvals")
@Tag(name = "approvals")
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
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Operation(summary = "Approvals, newest first",
            description = "Each: id, run, task, state, requiredApprovals, requestedBy, requestedAt, decidedAt, pipeline.")
    @APIResponse(responseCode = "200", description = "the approvals")
    @APIResponse(responseCode = "400", description = "unknown state, or limit outside 1..1000")
    public List<Map<String, Object>> list(
            @Parameter(description = "only approvals in this state", schema = @Schema(enumeration = {"pending",
                    "approved", "rejected", "expired"})) @QueryParam("state") String state,
            @Parameter(description = "at most this many (1..1000)") @QueryParam("limit") @DefaultValue("100") int limit) {
        if (state != null && !Approval.STATES.contains(state)) {
            throw ProblemException.badRequest("state", "unknown approval state '" + state + "'; expected one of " + Approval.STATES);
        }
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        return approvals.list(state, limit).stream().map(this::view).toList();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{id}")
    @Operation(summary = "One approval with its decisions")
    @APIResponse(responseCode = "200", description = "the approval and its decisions (who, decision, comment, when)")
    @APIResponse(responseCode = "404", description = "no approval with this id")
    public Map<String, Object> get(@PathParam("id") String id) {
        Map<String, Object> view = view(find(id));
        view.put("decisions", approvals.decisions(id));
        return view;
    }

    @POST
    @Path("/{id}/approve")
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed(Roles.REVIEWER)
    @Operation(summary = "Approve (role reviewer)", description = "Never your own run (four eyes); the run goes on "
            + "once enough reviewers approved. The comment is optional.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = false, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            examples = @ExampleObject(name = "approve", value = "{\"comment\": \"metrics match production\"}")))
    @APIResponse(responseCode = "200", description = "the approval's state after the decision")
    @APIResponse(responseCode = "400", description = "the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer, or submitted the run")
    @APIResponse(responseCode = "404", description = "no approval with this id")
    @APIResponse(responseCode = "409", description = "the approval is no longer pending, or the caller already decided")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Map<String, Object> approve(@PathParam("id") String id, DecisionRequest body) {
        return decide(id, "approve", body == null ? null : body.comment());
    }

    @POST
    @Path("/{id}/reject")
    @Consumes(MediaType.WILDCARD)
    @RolesAllowed(Roles.REVIEWER)
    @Operation(summary = "Reject with a comment (role reviewer)",
            description = "The comment is mandatory; the approval task fails, and the run with it.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            examples = @ExampleObject(name = "reject", value = "{\"comment\": \"accuracy dropped 2 points on the holdout set\"}")))
    @APIResponse(responseCode = "200", description = "the approval's state after the decision")
    @APIResponse(responseCode = "400", description = "no comment, or the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer, or submitted the run")
    @APIResponse(responseCode = "404", description = "no approval with this id")
    @APIResponse(responseCode = "409", description = "the approval is no longer pending, or the caller already decided")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
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
