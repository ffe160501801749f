package dev.anvil.workflows.pipeline;

import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Task activities whose behaviour each test scripts per task id; records what the workflow asked. */
public class FakeTasks implements TaskActivities {
    final Map<String, Integer> failuresBeforeSuccess = new ConcurrentHashMap<>();
    final Map<String, String> invalidInput = new ConcurrentHashMap<>();
    final Map<String, CountDownLatch> blockUntil = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    final Map<String, Map<String, Object>> receivedWith = new ConcurrentHashMap<>();
    final List<String> recorded = new CopyOnWriteArrayList<>();
    final List<String> started = new CopyOnWriteArrayList<>();
    final Map<String, Integer> previousAttempts = new ConcurrentHashMap<>();

    @Override
    public TaskResult runTask(TaskInvocation invocation) {
        String id = invocation.taskId();
        int attempt = attempts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        started.add(id);
        receivedWith.put(id, invocation.with());
        previousAttempts.put(id, invocation.previousAttempts());
        if (invalidInput.containsKey(id)) {
            throw ApplicationFailure.newNonRetryableFailure(invalidInput.get(id), INVALID_INPUT);
        }
        CountDownLatch latch = blockUntil.get(id);
        if (latch != null) {
            try {
                while (!latch.await(100, TimeUnit.MILLISECONDS)) {
                    Activity.getExecutionContext().heartbeat(null);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (attempt <= failuresBeforeSuccess.getOrDefault(id, 0)) {
            throw ApplicationFailure.newFailure("attempt " + attempt + " of " + id + " failed", "Flaky");
        }
        return new TaskResult(Map.of("value", id + "-out", "attempt", attempt));
    }

    @Override
    public void recordTaskState(String runId, String taskId, String operator, int attempt, String status, String error) {
        recorded.add(taskId + "=" + status);
    }
}
