package dev.anvil.api.serving;

import dev.anvil.activities.rollout.CanarySpec;
import dev.anvil.activities.rollout.EvidenceAdmission;
import dev.anvil.activities.rollout.RolloutRefused;
import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.Role;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutStore;
import dev.anvil.serving.GatewayException;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import dev.anvil.workflows.rollout.RolloutControl;
import dev.anvil.workflows.rollout.RolloutStatus;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
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
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Canary rollouts: start one by hand, watch it, and steer it (pause, resume, promote, abort). */
@Path("/api/rollouts")
@Tag(name = "rollouts")
@Produces(MediaType.APPLICATION_JSON)
public class RolloutResource {
    @Inject WorkflowClient client;
    @Inject RolloutStore rollouts;
    @Inject dev.anvil.api.auth.CurrentCaller caller;
    @Inject AuditTrail trail;
    @Inject EvidenceAdmission admission;
    @Inject RolloutControls controls;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Start a canary rollout of a candidate model on an endpoint (role submitter or admin)",
            description = "The gateway shifts traffic step by step (steps, default [5, 25, 50, 100]), compares canary "
                    + "against stable every interval once min_requests arrived (analysis: max_error_rate, "
                    + "max_p95_latency_ratio), and promotes or rolls back on its own, extending a step at most "
                    + "max_extensions times. Production needs evidence: a candidate built by a run whose gate passed a "
                    + "validation of it and whose approval someone other than the requester gave (from Anvil's signed "
                    + "provenance and records), a rollout that gathers some (more than one step, min_requests at least 1, "
                    + "an interval at least ANVIL_ROLLOUT_MIN_INTERVAL), unless an admin breaks glass with a reason "
                    + "(audited); and a candidate with the endpoint's input/output signature, glass broken or not.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(
            name = "digits", value = "{\"endpoint\": \"digits\", \"model\": \"<sha256 of the candidate>\", "
            + "\"steps\": [5, 25, 50, 100], \"interval\": \"10m\", \"min_requests\": 200, "
            + "\"analysis\": {\"max_error_rate\": 0.01, \"max_p95_latency_ratio\": 1.2}}")))
    @APIResponse(responseCode = "201", description = "started: rollout, endpoint, state; Location is the rollout")
    @APIResponse(responseCode = "400", description = "the spec is incomplete or wrong; the problem names the field")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin, or breaks glass"
            + " without being an admin, or the candidate lacks the evidence production needs (a signed attestation,"
            + " its run's passed gate and approval; the problem names what is missing)")
    @APIResponse(responseCode = "409", description = "no such endpoint or candidate artifact, or the candidate's"
            + " inputs and outputs differ from what the endpoint serves (the problem names both signatures), or the"
            + " candidate is the version the endpoint already serves as stable")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Response start(Map<String, Object> body) {
        CanaryRequest request;
        java.util.Optional<String> breakGlass;
        try {
            Map<String, Object> spec = new java.util.LinkedHashMap<>(body == null ? Map.of() : body);
            spec.put("actor", caller.name()); // who started it is the authenticated caller
            breakGlass = CanarySpec.breakGlass(spec);
            if (breakGlass.isPresent() && !caller.require().has(Role.ADMIN)) {
                throw new ProblemException(403, "Forbidden", "only an admin may break glass (skip the canary's"
                        + " evidence); " + caller.name() + " is not one", List.of());
            }
            request = CanarySpec.parse(spec, "rollout-" + UUID.randomUUID(), null, admission.minInterval());
        } catch (CanarySpec.Invalid e) {
            throw Problems.of(GatewayException.badRequest(e.field(), e.getMessage()));
        }
        try {
            // from Anvil's records, never from the body: the candidate's signed provenance, its run's gate and
            // approval, and that it fits what the endpoint serves (the rollout's first activity asks again)
            admission.admit(request, breakGlass.isPresent());
        } catch (RolloutRefused e) {
            if (e.status() == 400) {
                throw Problems.of(GatewayException.badRequest(e.field(), e.getMessage()));
            }
            throw new ProblemException(e.status(), e.status() == 403 ? "Forbidden" : "Conflict", e.getMessage(), List.of());
        }
        breakGlass.ifPresent(reason -> trail.record("rollout.break_glass", "endpoint:" + request.endpoint(),
                "rollout", request.rolloutId(), "reason", reason, "candidate", request.candidateArtifact(),
                "steps", request.steps(), "min_requests", request.minRequests()));
        CanaryRolloutWorkflow stub = client.newWorkflowStub(CanaryRolloutWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CPU).setWorkflowId(request.rolloutId()).build());
        WorkflowClient.start(stub::run, request);
        return Response.status(201).location(URI.create("/api/rollouts/" + request.rolloutId()))
                .entity(Map.of("rollout", request.rolloutId(), "endpoint", request.endpoint(), "state", "starting")).build();
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Operation(summary = "Rollouts, newest first, a page at a time", description = "As stored: each rollout's endpoint,"
            + " model, stable and candidate versions, state, canary weight, latest analysis, start, end and why it"
            + " ended. GET /api/rollouts/{id} adds every analysed window and, while it runs, its live status.")
    @APIResponse(responseCode = "200", description = "the rollouts")
    @APIResponse(responseCode = "400", description = "unknown state, limit outside 1..1000, or a negative page")
    public List<Rollout> list(@Parameter(description = "only rollouts on this endpoint") @QueryParam("endpoint") String endpoint,
                              @Parameter(description = "only rollouts in this state", schema = @Schema(enumeration = {
                                      "running", "paused", "promoted", "rolled_back", "aborted", "failed"}))
                              @QueryParam("state") String state,
                              @Parameter(description = "rollouts per page (1..1000)") @QueryParam("limit") @DefaultValue("50") int limit,
                              @Parameter(description = "page number, from 0") @QueryParam("page") @DefaultValue("0") int page) {
        if (state != null && !Rollout.STATES.contains(state)) {
            throw ProblemException.badRequest("state", "unknown rollout state '" + state + "'; expected one of "
                    + Rollout.STATES);
        }
        if (limit < 1 || limit > 1000) {
            throw ProblemException.badRequest("limit", "'limit' must be between 1 and 1000, got " + limit);
        }
        if (page < 0) {
            throw ProblemException.badRequest("page", "'page' counts from 0, got " + page);
        }
        return rollouts.list(endpoint, state, limit, (int) Math.min(Integer.MAX_VALUE, (long) page * limit));
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @Path("/{id}")
    @Operation(summary = "A rollout as stored and, while it runs, its live status",
            description = "rollout: state, weight, latest analysis; windows: every analysed window, oldest first, one"
                    + " entry per version compared (role canary or stable) with its requests, errors, error rate and"
                    + " p95 latency (null when the version served nothing in the window), the window's verdict,"
                    + " reason and time; live: the workflow's status while it runs (step: the index of the current"
                    + " weight in steps, from 0; steps: how many there are).")
    @APIResponse(responseCode = "200", description = "rollout, windows and, while it runs, live", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RolloutView.class)))
    @APIResponse(responseCode = "404", description = "no rollout with this id")
    public Map<String, Object> get(@Parameter(description = "the rollout's id", example = "rollout-5e1c9a7b-2d3f-4a6b-8c9d-0e1f2a3b4c5d") @PathParam("id") String id) {
        return controls.view(id);
    }

    @POST
    @Path("/{id}/pause")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Hold the rollout at its weight (role reviewer or admin)", description = "The reason is recorded with the change (default: who did it); the actor is the caller, never the body.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "reason",
            value = "{\"reason\": \"error rate alarm on the canary\"}")))
    @APIResponse(responseCode = "200", description = "the rollout's status after the change")
    @APIResponse(responseCode = "400", description = "the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer or admin")
    @APIResponse(responseCode = "404", description = "no rollout with this id")
    @APIResponse(responseCode = "409", description = "the rollout has finished, or refuses this transition "
            + "(e.g. resume a running rollout)")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public RolloutStatus pause(@Parameter(description = "the rollout's id", example = "rollout-5e1c9a7b-2d3f-4a6b-8c9d-0e1f2a3b4c5d") @PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, "pause");
    }

    @POST
    @Path("/{id}/resume")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Resume a paused rollout (role reviewer or admin)", description = "The analysis starts a fresh window. The reason is recorded with the change (default: who did it); the actor is the caller, never the body.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "reason",
            value = "{\"reason\": \"error rate alarm on the canary\"}")))
    @APIResponse(responseCode = "200", description = "the rollout's status after the change")
    @APIResponse(responseCode = "400", description = "the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer or admin")
    @APIResponse(responseCode = "404", description = "no rollout with this id")
    @APIResponse(responseCode = "409", description = "the rollout has finished, or refuses this transition "
            + "(e.g. resume a running rollout)")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public RolloutStatus resume(@Parameter(description = "the rollout's id", example = "rollout-5e1c9a7b-2d3f-4a6b-8c9d-0e1f2a3b4c5d") @PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, "resume");
    }

    @POST
    @Path("/{id}/promote")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Promote the candidate now (role reviewer or admin)", description = "It becomes the stable version and the model's production alias. The reason is recorded with the change (default: who did it); the actor is the caller, never the body.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "reason",
            value = "{\"reason\": \"error rate alarm on the canary\"}")))
    @APIResponse(responseCode = "200", description = "the rollout's status after the change")
    @APIResponse(responseCode = "400", description = "the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer or admin")
    @APIResponse(responseCode = "404", description = "no rollout with this id")
    @APIResponse(responseCode = "409", description = "the rollout has finished, or refuses this transition "
            + "(e.g. resume a running rollout)")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public RolloutStatus promote(@Parameter(description = "the rollout's id", example = "rollout-5e1c9a7b-2d3f-4a6b-8c9d-0e1f2a3b4c5d") @PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, "promote");
    }

    @POST
    @Path("/{id}/abort")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Roll back now (role reviewer or admin)", description = "The canary leaves the endpoint. The reason is recorded with the change (default: who did it); the actor is the caller, never the body.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "reason",
            value = "{\"reason\": \"error rate alarm on the canary\"}")))
    @APIResponse(responseCode = "200", description = "the rollout's status after the change")
    @APIResponse(responseCode = "400", description = "the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role reviewer or admin")
    @APIResponse(responseCode = "404", description = "no rollout with this id")
    @APIResponse(responseCode = "409", description = "the rollout has finished, or refuses this transition "
            + "(e.g. resume a running rollout)")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public RolloutStatus abort(@Parameter(description = "the rollout's id", example = "rollout-5e1c9a7b-2d3f-4a6b-8c9d-0e1f2a3b4c5d") @PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, "abort");
    }

    /**
     * What GET /api/rollouts/{id} answers, for the OpenAPI document ({@link RolloutControls#view} builds it as a map:
     * live is absent once the workflow ended).
     */
    public record RolloutView(Rollout rollout, List<dev.anvil.db.RolloutWindow> windows, RolloutStatus live) {
    }

    private RolloutStatus control(String id, Map<String, Object> body, String command) {
        Object reason = body == null ? null : body.get("reason");
        return controls.control(id, caller.require(), command, reason instanceof String r ? r : null);
    }

}
