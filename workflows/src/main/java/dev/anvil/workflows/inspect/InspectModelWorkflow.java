package dev.anvil.workflows.inspect;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** A one-task run that inspects an uploaded ONNX model; its workflow id is the run id. */
@WorkflowInterface
public interface InspectModelWorkflow {
    String TASK_ID = "inspect";
    String PIPELINE = "inspect-model";

    @WorkflowMethod
    ModelReport inspect(InspectRequest request);
}
