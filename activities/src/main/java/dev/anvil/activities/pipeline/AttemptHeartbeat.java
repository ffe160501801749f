package dev.anvil.activities.pipeline;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Heartbeats one running task attempt while its operator works. The operator's own heartbeats carry its progress
 * (and what a retry resumes from); between them, when the attempt has a heartbeat timeout, a keep-alive re-sends
 * the latest progress a few times per timeout, so an operator inside one long call (loading a model in ONNX
 * Runtime, a LibSVM fit) still heartbeats. The keep-alive lives in the worker process: when the process dies the
 * heartbeats stop and Temporal retries the task elsewhere after the heartbeat timeout. A stuck operator on a live
 * worker is ended by the task's execution timeout instead.
 */
final class AttemptHeartbeat implements AutoCloseable {
    /** Beats per heartbeat timeout: one late or lost beat does not time the attempt out. */
    static final int BEATS_PER_TIMEOUT = 3;
    private static final ScheduledExecutorService KEEP_ALIVE = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "anvil-task-keep-alive");
        t.setDaemon(true);
        return t;
    });

    private final ActivityExecutionContext activity;
    private final ScheduledFuture<?> keepAlive;
    /** The latest details sent: the operator's progress, or else what the previous attempt left. */
    private volatile Object progress;

    AttemptHeartbeat(ActivityExecutionContext activity) {
        this.activity = activity;
        this.progress = previousDetails(activity);
        Duration timeout = activity.getInfo().getHeartbeatTimeout();
        if (timeout == null || timeout.isZero() || timeout.isNegative()) {
            keepAlive = null;
        } else {
            long every = Math.max(100, timeout.toMillis() / BEATS_PER_TIMEOUT);
            keepAlive = KEEP_ALIVE.scheduleAtFixedRate(this::keepAlive, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /** The operator's progress: sent now (throttled by the SDK), and re-sent by the keep-alive until the next. */
    void progress(Object details) {
        progress = details;
        activity.heartbeat(details);
    }

    /**
     * The details the previous attempt heartbeated, as the SDK reads them after this attempt's own heartbeats began
     * (the SDK's {@code getHeartbeatDetails} would answer this attempt's latest instead).
     */
    <T> java.util.Optional<T> previous(Class<T> type) {
        return activity.getLastHeartbeatDetails(type);
    }

    private void keepAlive() {
        try {
            activity.heartbeat(progress);
        } catch (ActivityCompletionException e) {
            // cancelled, timed out or the worker shuts down: the operator's next heartbeat throws the same
            stop();
        } catch (RuntimeException e) {
            // the SDK logs a heartbeat it could not send; the next beat tries again
        }
    }

    private void stop() {
        if (keepAlive != null) {
            keepAlive.cancel(false);
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** Re-sent as is until the operator reports progress, so a retry of a retry still finds the checkpoint. */
    private static Object previousDetails(ActivityExecutionContext activity) {
        try {
            return activity.getLastHeartbeatDetails(Object.class).orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
