package dev.anvil.api.serving;

import dev.anvil.activities.rollout.CanarySpec;
import dev.anvil.activities.rollout.GatewayException;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutStore;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import dev.anvil.workflows.rollout.RolloutControl;
import dev.anvil.workflows.rollout.RolloutStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Canary rollouts: start one by hand, watch it, and steer it (pause, resume, promote, abort). */
@Path("/api/rollouts")
@Produces(MediaType.APPLICATION_JSON)
public class RolloutResource {
    @Inject WorkflowClient client;
    @Inject RolloutStore rollouts;
    @Inject dev.anvil.api.auth.CurrentCaller caller;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    public Response start(Map<String, Object> body) {
        CanaryRequest request;
        try {
            Map<String, Object> spec = new java.util.LinkedHashMap<>(body == null ? Map.of() : body);
            spec.put("actor", caller.name()); // who started it is the authenticated caller
            request = CanarySpec.parse(spec, "rollout-" + UUID.randomUUID(), null);
        } catch (GatewayException e) {
            throw Problems.of(e);
        }
        CanaryRolloutWorkflow stub = client.newWorkflowStub(CanaryRolloutWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CPU).setWorkflowId(request.rolloutId()).build());
        WorkflowClient.start(stub::run, request);
        return Response.status(201).location(URI.create("/api/rollouts/" + request.rolloutId()))
                .entity(Map.of("rollout", request.rolloutId(), "endpoint", request.endpoint(), "state", "starting")).build();
    }

    @GET
    @Path("/{id}")
    public Map<String, Object> get(@PathParam("id") String id) {
        Map<String, Object> view = new LinkedHashMap<>();
        rollouts.find(id).ifPresent(r -> view.put("rollout", r));
        try {
            view.put("live", stub(id).status());
        } catch (RuntimeException e) {
            // finished long ago or never started: the row is what there is
        }
        if (view.isEmpty()) {
            throw ProblemException.notFound("no rollout with id '" + id + "'");
        }
        return view;
    }

    @POST
    @Path("/{id}/pause")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    public RolloutStatus pause(@PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, CanaryRolloutWorkflow::pause);
    }

    @POST
    @Path("/{id}/resume")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    public RolloutStatus resume(@PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, CanaryRolloutWorkflow::resume);
    }

    @POST
    @Path("/{id}/promote")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    public RolloutStatus promote(@PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, CanaryRolloutWorkflow::promote);
    }

    @POST
    @Path("/{id}/abort")
    @RolesAllowed({Roles.REVIEWER, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    public RolloutStatus abort(@PathParam("id") String id, Map<String, Object> body) {
        return control(id, body, CanaryRolloutWorkflow::abort);
    }

    private RolloutStatus control(String id, Map<String, Object> body,
                                  java.util.function.BiFunction<CanaryRolloutWorkflow, RolloutControl, RolloutStatus> update) {
        // the actor is the authenticated caller, never what the body claims
        String a = caller.name();
        Object reason = body == null ? null : body.get("reason");
        Rollout row = rollouts.find(id).orElseThrow(() -> ProblemException.notFound("no rollout with id '" + id + "'"));
        if (Rollout.TERMINAL.contains(row.state())) {
            throw new ProblemException(409, "Conflict", "rollout '" + id + "' has finished (" + row.state()
                    + "); nothing to change", List.of());
        }
        try {
            return update.apply(stub(id), new RolloutControl(a, reason instanceof String r ? r : null));
        } catch (WorkflowUpdateException e) {
            throw new ProblemException(409, "Conflict", rootMessage(e), List.of());
        }
    }

    private CanaryRolloutWorkflow stub(String id) {
        return client.newWorkflowStub(CanaryRolloutWorkflow.class, id);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof ApplicationFailure f ? f.getOriginalMessage() : t.getMessage();
    }

}
