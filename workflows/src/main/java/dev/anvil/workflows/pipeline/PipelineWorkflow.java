package dev.anvil.workflows.pipeline;

import io.temporal.workflow.QueryMethod;
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
}
