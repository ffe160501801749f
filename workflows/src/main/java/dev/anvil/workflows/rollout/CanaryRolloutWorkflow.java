package dev.anvil.workflows.rollout;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Shifts an endpoint's traffic to a candidate step by step, judges each step's window against the
 * stable version, and promotes or rolls back on its own. People steer it with Updates whose
 * validators refuse transitions that make no sense (resume a running rollout, pause a paused one).
 */
@WorkflowInterface
public interface CanaryRolloutWorkflow {
    @WorkflowMethod(name = "CanaryRollout")
    CanaryResult run(CanaryRequest request);

    @QueryMethod
    RolloutStatus status();

    @UpdateMethod
    RolloutStatus pause(RolloutControl control);

    @UpdateValidatorMethod(updateName = "pause")
    void validatePause(RolloutControl control);

    @UpdateMethod
    RolloutStatus resume(RolloutControl control);

    @UpdateValidatorMethod(updateName = "resume")
    void validateResume(RolloutControl control);

    /** Promotes the candidate now, skipping the remaining steps. */
    @UpdateMethod
    RolloutStatus promote(RolloutControl control);

    @UpdateValidatorMethod(updateName = "promote")
    void validatePromote(RolloutControl control);

    /** Rolls back now: the canary leaves the endpoint and the rollout ends aborted. */
    @UpdateMethod
    RolloutStatus abort(RolloutControl control);

    @UpdateValidatorMethod(updateName = "abort")
    void validateAbort(RolloutControl control);
}
