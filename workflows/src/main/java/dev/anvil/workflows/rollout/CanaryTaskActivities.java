package dev.anvil.workflows.rollout;

import dev.anvil.workflows.pipeline.TaskInvocation;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.Map;

/**
 * The task-run side of a pipeline's {@code canary} task, which the pipeline workflow runs as a child
 * {@link CanaryRolloutWorkflow} between these two: {@link #prepare} opens the attempt and admits the rollout,
 * {@link #finish} records how it ended. The same bookkeeping as every other task (a task run per attempt,
 * running, then success or failed with the outputs), without an activity held open while the rollout waits.
 */
@ActivityInterface
public interface CanaryTaskActivities {
    /** The rollout was rolled back by its analysis: the task fails with the analysis' reason. */
    String ROLLED_BACK = "CanaryRolledBack";
    /** A person aborted the rollout. */
    String ABORTED = "CanaryAborted";
    /** The rollout's workflow failed (no endpoint, the candidate never loaded). */
    String ROLLOUT_FAILED = "CanaryRolloutFailed";

    /**
     * Records the attempt as running (keyed by run, task and attempt, after the attempts of earlier tries of the
     * run), reads the canary spec from {@code with} and asks the check every rollout passes (evidence, signed
     * provenance, four-eyes approval, the endpoint's signature). A spec or candidate that may not roll out ends
     * the attempt failed, not retried, naming what is wrong ({@code TaskActivities.INVALID_INPUT}).
     */
    @ActivityMethod(name = "CanaryPrepare")
    PreparedCanary prepare(TaskInvocation invocation);

    /** Ends the attempt {@link #prepare} opened: {@code success} or {@code failed}, with the rollout's outputs. */
    @ActivityMethod(name = "CanaryFinish")
    void finish(long taskRunId, String status, Map<String, Object> outputs, String error);
}
