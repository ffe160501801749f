package dev.anvil.activities.rollout;

import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import dev.anvil.workflows.rollout.Analysis;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryResult;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import dev.anvil.workflows.rollout.RolloutControl;
import dev.anvil.workflows.rollout.RolloutStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code canary}: rolls a candidate model out behind a gateway endpoint step by step. It starts a
 * {@link CanaryRolloutWorkflow} whose id is derived from the run and task (so a retried attempt attaches
 * to the same rollout instead of starting a second one, while a retried run starts a new one) and waits
 * for its end, heartbeating the rollout's state. A promoted rollout is a success; a rolled-back or aborted one fails the task, not to be retried,
 * with the analysis that decided it. Cancelling the run aborts the rollout.
 */
public final class CanaryOperator implements Operator {
    private static final long POLL_SECONDS = 5;

    private final WorkflowClient client;
    private final RolloutAdmission admission;
    private final java.time.Duration minInterval;

    /**
     * @param admission   the check every rollout passes, asked before the rollout starts so that a refused one
     *                    fails the task at once, naming what is missing
     * @param minInterval the shortest analysis window that counts as evidence
     */
    public CanaryOperator(WorkflowClient client, RolloutAdmission admission, java.time.Duration minInterval) {
        this.client = client;
        this.admission = admission;
        this.minInterval = minInterval;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.CANARY;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        // Temporal's retries of one try of the run attach to one rollout; a retried run is a new try
        // and starts a new rollout from its first step (the one before may have been rolled back)
        String rolloutId = "rollout-" + context.runId() + "-" + context.taskId()
                + (context.previousAttempts() == 0 ? "" : "-" + (context.previousAttempts() + 1));
        CanaryRequest request;
        try {
            if (with.containsKey("break_glass")) {
                throw new InvalidTaskInputException("canary: break_glass is an admin's call, made with a reason over"
                        + " POST /api/rollouts and audited; a pipeline cannot break glass");
            }
            Map<String, Object> spec = new LinkedHashMap<>(with);
            spec.putIfAbsent("actor", "pipeline " + context.runId());
            request = CanarySpec.parse(spec, rolloutId, context.taskRunId(), minInterval);
            admission.admit(request, false);
        } catch (CanarySpec.Invalid | RolloutRefused e) {
            throw new InvalidTaskInputException("canary: " + e.getMessage(), e);
        }
        CanaryRolloutWorkflow rollout = client.newWorkflowStub(CanaryRolloutWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CPU).setWorkflowId(rolloutId).build());
        try {
            WorkflowClient.start(rollout::run, request);
        } catch (WorkflowExecutionAlreadyStarted e) {
            // a retried attempt: the rollout is already under way, follow it
        }
        WorkflowStub untyped = client.newUntypedWorkflowStub(rolloutId);
        CanaryRolloutWorkflow running = client.newWorkflowStub(CanaryRolloutWorkflow.class, rolloutId);
        CanaryResult result;
        while (true) {
            try {
                result = untyped.getResult(POLL_SECONDS, TimeUnit.SECONDS, CanaryResult.class);
                break;
            } catch (TimeoutException e) {
                RolloutStatus status = running.status();
                try {
                    context.heartbeat(Map.of("rollout", rolloutId, "state", status.state(), "weight", status.weight(),
                            "step", status.step(), "steps", status.steps()));
                } catch (io.temporal.client.ActivityCompletionException cancelled) {
                    running.abort(new RolloutControl("pipeline " + context.runId(), "the pipeline run was cancelled"));
                    throw cancelled;
                }
            }
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("rollout", rolloutId);
        outputs.put("state", result.state());
        outputs.put("endpoint", result.endpoint());
        outputs.put("model", result.model());
        outputs.put("stable_version", result.stableVersion());
        outputs.put("candidate_version", result.candidateVersion());
        outputs.put("windows", result.analyses().size());
        if (!"promoted".equals(result.state())) {
            throw new InvalidTaskInputException("canary: rollout " + rolloutId + " ended " + result.state()
                    + (result.decidedBy() == null ? "" : " by " + result.decidedBy())
                    + (result.reason() == null ? "" : ": " + result.reason()) + lastAnalysis(result.analyses()));
        }
        return outputs;
    }

    private static String lastAnalysis(List<Analysis> analyses) {
        return analyses.isEmpty() ? "" : " (last window: " + analyses.get(analyses.size() - 1) + ")";
    }
}
