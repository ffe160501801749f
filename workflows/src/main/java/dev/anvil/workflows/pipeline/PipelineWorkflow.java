package dev.anvil.workflows.pipeline;

import dev.anvil.workflows.approval.ApprovalDecision;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.approval.RecordedDecision;
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
     * A reviewer's decision on the approval task {@code decision.taskId()}, by the id Anvil's API wrote it
     * under. The workflow counts it only after an activity has confirmed it from PostgreSQL (it exists,
     * is this approval's and unused, and its reviewer has the reviewer role, is not the run's requester
     * when approving, and has not decided yet); a refusal fails the Update with a type from
     * {@link dev.anvil.workflows.approval.ApprovalFailures} and leaves the approval waiting. Returns once
     * the decision is recorded; the run goes on when enough reviewers approved (or fails on a reject).
     */
    @UpdateMethod
    ApprovalOutcome decideRecorded(RecordedDecision decision);

    /**
     * Refuses, before it reaches history, a decision without an id, one for a task that is not waiting
     * for approval, and an id this approval already saw.
     */
    @UpdateValidatorMethod(updateName = "decideRecorded")
    void validateDecideRecorded(RecordedDecision decision);

    /**
     * The decision Update before decisions were recorded first: it named the reviewer and roles, which
     * anyone reaching Temporal could make up. Kept so that runs decided that way replay; its validator
     * refuses every new call, so it never reaches history again.
     */
    @UpdateMethod
    ApprovalOutcome decide(ApprovalDecision decision);

    /** Refuses every {@code decide}: decisions come through Anvil's API, as {@link #decideRecorded}. */
    @UpdateValidatorMethod(updateName = "decide")
    void validateDecide(ApprovalDecision decision);
}
