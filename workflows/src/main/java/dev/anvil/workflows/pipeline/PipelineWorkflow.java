package dev.anvil.workflows.pipeline;

import dev.anvil.workflows.approval.ApprovalDecision;
import dev.anvil.workflows.approval.ApprovalOutcome;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** Runs a pipeline's task DAG; the workflow id is the run id. Cancel the workflow to cancel the run. */
@WorkflowInterface
public interface PipelineWorkflow {
    @WorkflowMethod
    RunState run(PipelinePlan plan);

    /** Live state of every task. */
    @QueryMethod
    RunState state();

    /**
     * A reviewer's decision on the approval task {@code decision.taskId()}. Returns once the decision
     * is recorded; the run goes on when enough reviewers approved (or fails on a reject).
     */
    @UpdateMethod
    ApprovalOutcome decide(ApprovalDecision decision);

    /**
     * Refuses a decision before it reaches history: no approval waiting on that task, a caller without
     * the reviewer role, the run's submitter approving their own run (four-eyes), a second decision by
     * the same reviewer, or a reject without a comment. Throws ApplicationFailure with a type from
     * {@link dev.anvil.workflows.approval.ApprovalFailures}.
     */
    @UpdateValidatorMethod(updateName = "decide")
    void validateDecide(ApprovalDecision decision);
}
