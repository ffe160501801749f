package dev.anvil.workflows.pipeline;

import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryTaskActivities;
import dev.anvil.workflows.rollout.PreparedCanary;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The canary task's bookkeeping in memory: {@code prepare} admits every spec except one that names
 * {@code refuse} (the admission's refusal, as the real activity words it), and each end is recorded. The rollout
 * has four steps of {@value #INTERVAL_SECONDS} s windows, 200 requests a window and {@code with.max_extensions}
 * (default 2) inconclusive windows before it pauses for a person.
 */
class FakeCanaryTasks implements CanaryTaskActivities {
    static final long INTERVAL_SECONDS = 600;

    private final AtomicLong taskRuns = new AtomicLong(100);
    final List<String> prepared = new CopyOnWriteArrayList<>();
    final List<String> finished = new CopyOnWriteArrayList<>();
    final List<Map<String, Object>> finishedOutputs = new CopyOnWriteArrayList<>();

    @Override
    public PreparedCanary prepare(TaskInvocation task) {
        prepared.add(task.taskId());
        if (task.with().get("refuse") instanceof String reason) {
            throw ApplicationFailure.newNonRetryableFailure("canary: " + reason, TaskActivities.INVALID_INPUT);
        }
        String rolloutId = "rollout-" + task.runId() + "-" + task.taskId();
        return new PreparedCanary(taskRuns.incrementAndGet(), task.previousAttempts() + 1, new CanaryRequest(rolloutId,
                (String) task.with().get("endpoint"), "ab".repeat(32), List.of(5, 25, 50, 100), INTERVAL_SECONDS, 200,
                0.01, 1.2, task.with().get("max_extensions") instanceof Integer n ? n : 2, taskRuns.get(),
                "pipeline " + task.runId()));
    }

    @Override
    public void finish(long taskRunId, String status, Map<String, Object> outputs, String error) {
        finished.add(taskRunId + "=" + status + (error == null ? "" : ": " + error));
        if (outputs != null) {
            finishedOutputs.add(outputs);
        }
    }
}
