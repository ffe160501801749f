package dev.anvil.api.serving;

import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.Caller;
import dev.anvil.api.auth.Role;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutStore;
import dev.anvil.workflows.rollout.CanaryResult;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import dev.anvil.workflows.rollout.RolloutControl;
import dev.anvil.workflows.rollout.RolloutStatus;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

/**
 * Reading and steering a rollout, for the REST API and the web UI alike, so both apply the same rules: only a
 * reviewer or an admin steers, a finished rollout refuses every change (409), the workflow's validator refuses
 * a transition it does not allow (409), and each change is audited in the caller's name.
 */
@ApplicationScoped
public class RolloutControls {
    /** The commands a person may give a running rollout, as the API's paths and the UI's buttons name them. */
    public static final List<String> COMMANDS = List.of("pause", "resume", "promote", "abort");

    @Inject WorkflowClient client;
    @Inject RolloutStore rollouts;
    @Inject AuditTrail trail;

    /** Whether {@code who} may steer rollouts (the roles the API's steering operations allow). */
    public static boolean maySteer(Caller who) {
        return who.has(Role.REVIEWER) || who.has(Role.ADMIN);
    }

    /**
     * rollout: the row (or how its workflow ended when it never wrote one); windows: every analysed window as
     * recorded (with the row); live: the workflow's status while it runs.
     */
    public Map<String, Object> view(String id) {
        Map<String, Object> view = new LinkedHashMap<>();
        Optional<Rollout> row = rollouts.find(id);
        row.ifPresent(r -> {
            view.put("rollout", r);
            view.put("windows", rollouts.windows(id));
        });
        try {
            WorkflowStub workflow = client.newUntypedWorkflowStub(id);
            WorkflowExecutionStatus status = workflow.describe().getStatus();
            if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
                view.put("live", stub(id).status());
            } else if (row.isEmpty()) {
                // it ended before recording itself (no such endpoint, say): its live state would read
                // "starting" for ever, so say how it ended instead
                view.put("rollout", Map.of("id", id, "state", "failed", "reason", "its workflow ended "
                        + status.name().replace("WORKFLOW_EXECUTION_STATUS_", "").toLowerCase()
                        + " before the rollout began: " + failure(workflow)));
            }
        } catch (RuntimeException e) {
            // never started, or forgotten by Temporal: the row is what there is
        }
        if (view.isEmpty()) {
            throw ProblemException.notFound("no rollout with id '" + id + "'");
        }
        return view;
    }

    /**
     * Gives the rollout one of {@link #COMMANDS} in {@code who}'s name (never a name the request chose).
     *
     * @throws ProblemException 400 unknown command, 403 the caller may not steer, 404 no such rollout, 409 it has
     *                          finished or its workflow refuses the transition
     */
    public RolloutStatus control(String id, Caller who, String command, String reason) {
        BiFunction<CanaryRolloutWorkflow, RolloutControl, RolloutStatus> update = switch (command) {
            case "pause" -> CanaryRolloutWorkflow::pause;
            case "resume" -> CanaryRolloutWorkflow::resume;
            case "promote" -> CanaryRolloutWorkflow::promote;
            case "abort" -> CanaryRolloutWorkflow::abort;
            default -> throw ProblemException.badRequest("command", "unknown rollout command '" + command
                    + "'; expected one of " + COMMANDS);
        };
        if (!maySteer(who)) {
            throw new ProblemException(403, "Forbidden", "'" + who.principal() + "' may not " + command
                    + " rollouts: it needs the role reviewer or admin", List.of());
        }
        Rollout row = rollouts.find(id).orElseThrow(() -> ProblemException.notFound("no rollout with id '" + id + "'"));
        if (Rollout.TERMINAL.contains(row.state())) {
            throw new ProblemException(409, "Conflict", "rollout '" + id + "' has finished (" + row.state()
                    + "); nothing to change", List.of());
        }
        try {
            RolloutStatus status = update.apply(stub(id), new RolloutControl(who.principal(), reason));
            trail.record("rollout." + command, "rollout:" + id, "endpoint", row.endpoint(), "reason", reason);
            return status;
        } catch (WorkflowUpdateException e) {
            throw new ProblemException(409, "Conflict", rootMessage(e), List.of());
        }
    }

    private CanaryRolloutWorkflow stub(String id) {
        return client.newWorkflowStub(CanaryRolloutWorkflow.class, id);
    }

    private static String failure(WorkflowStub workflow) {
        try {
            workflow.getResult(1, TimeUnit.SECONDS, CanaryResult.class);
            return "no failure recorded";
        } catch (WorkflowFailedException e) {
            return rootMessage(e);
        } catch (TimeoutException e) {
            return "no failure recorded";
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof ApplicationFailure f ? f.getOriginalMessage() : t.getMessage();
    }
}
