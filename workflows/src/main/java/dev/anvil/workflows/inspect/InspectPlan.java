package dev.anvil.workflows.inspect;

import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PlannedTask;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The run behind {@code POST /api/models/inspect}: a one-task pipeline over the {@code inspect} operator, so an
 * inspection is recorded (run, task run, lineage, logs, cache) exactly as the same task in any pipeline. Its run
 * is recorded under the pipeline name {@value #PIPELINE} with no registered version.
 */
public final class InspectPlan {
    public static final String PIPELINE = "inspect-model";
    public static final String TASK_ID = "inspect";
    /** Storage or database hiccups retry (a bad model does not: it is bad input); loading a large model takes seconds. */
    static final int RETRIES = 4;
    static final Duration RETRY_DELAY = Duration.ofSeconds(2);
    static final Duration EXECUTION_TIMEOUT = Duration.ofMinutes(10);

    private InspectPlan() {}

    /** Inspect the uploaded artifact {@code sha256} for {@code submittedBy}. */
    public static PipelinePlan of(String sha256, String submittedBy) {
        OperatorDescriptor inspect = BuiltInOperators.INSPECT;
        PlannedTask task = new PlannedTask(TASK_ID, inspect.name(), List.of(), "all_success", RETRIES, RETRY_DELAY,
                inspect.executionTimeout().orElse(EXECUTION_TIMEOUT), inspect.taskQueue(), Map.of("model", sha256),
                inspect.deterministic(), inspect.heartbeatTimeout().orElse(null));
        return new PipelinePlan(PIPELINE, 0, Map.of(), List.of(task), 1, submittedBy);
    }
}
