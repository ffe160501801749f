package dev.anvil.workflows.inspect;

import dev.anvil.workflows.runs.RunStateActivities;
import dev.anvil.workflows.runs.StateWrites;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;

public class InspectModelWorkflowImpl implements InspectModelWorkflow {

    // Loading a model reads it from object storage and builds an ONNX Runtime session: seconds for
    // large models, so a generous start-to-close; storage or database hiccups retry with back-off,
    // a bad model does not (InvalidModel is non-retryable and thrown as such by the activity).
    private final InspectActivities inspect = Workflow.newActivityStub(InspectActivities.class,
            ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(Duration.ofMinutes(10))
                    .setRetryOptions(RetryOptions.newBuilder()
                            .setInitialInterval(Duration.ofSeconds(1))
                            .setBackoffCoefficient(2)
                            .setMaximumInterval(Duration.ofSeconds(30))
                            .setMaximumAttempts(5)
                            .setDoNotRetry(InspectActivities.INVALID_MODEL)
                            .build())
                    .build());

    private final RunStateActivities runState = Workflow.newActivityStub(RunStateActivities.class, StateWrites.OPTIONS);

    @Override
    public ModelReport inspect(InspectRequest request) {
        String runId = Workflow.getInfo().getWorkflowId();
        runState.runStarted(runId);
        try {
            ModelReport report = inspect.inspectModel(runId, TASK_ID, request);
            runState.runFinished(runId, "success", null);
            return report;
        } catch (ActivityFailure e) {
            String reason = rootMessage(e);
            runState.runFinished(runId, "failed", reason);
            throw e;
        }
    }

    private static String rootMessage(ActivityFailure e) {
        Throwable cause = e.getCause();
        if (cause instanceof ApplicationFailure app) {
            return app.getOriginalMessage();
        }
        return cause == null ? e.getMessage() : cause.getMessage();
    }
}
