package dev.anvil.workflows.inspect;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

@ActivityInterface
public interface InspectActivities {
    /** Task type for non-retryable failures caused by the model file itself (corrupt, not ONNX). */
    String INVALID_MODEL = "InvalidModel";

    /**
     * Loads the model in ONNX Runtime and reports its structure; records a task run with the report
     * as metrics and a lineage edge "task run used model". Keyed by (run, task, attempt), so a retry
     * never duplicates rows.
     */
    @ActivityMethod
    ModelReport inspectModel(String runId, String taskId, InspectRequest request);
}
