package dev.anvil.activities.tasklog;

import dev.anvil.storage.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Opens each attempt's {@link AttemptLog} and flushes the open ones on one daemon thread: every
 * {@code interval}, and soon after an attempt wrote {@code flushLines} lines since its last flush.
 */
public final class TaskLogs implements AutoCloseable {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    public static final int DEFAULT_FLUSH_LINES = 500;
    public static final long DEFAULT_MAX_BYTES = 4L * 1024 * 1024;

    private final ObjectStore store;
    private final Duration interval;
    private final int flushLines;
    private final long maxBytes;
    private final Clock clock;
    private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "anvil-task-logs");
        t.setDaemon(true);
        return t;
    });

    public TaskLogs(ObjectStore store) {
        this(store, DEFAULT_INTERVAL, DEFAULT_FLUSH_LINES, DEFAULT_MAX_BYTES, Clock.systemUTC());
    }

    public TaskLogs(ObjectStore store, Duration interval, int flushLines, long maxBytes, Clock clock) {
        if (interval.isZero() || interval.isNegative() || flushLines < 1 || maxBytes < 1024) {
            throw new IllegalArgumentException("task logs need a positive flush interval, at least 1 line per flush"
                    + " and a bound of at least 1024 bytes; got " + interval + ", " + flushLines + ", " + maxBytes);
        }
        this.store = store;
        this.interval = interval;
        this.flushLines = flushLines;
        this.maxBytes = maxBytes;
        this.clock = clock;
    }

    /** The store name of a try's log; the API derives it the same way to serve it. */
    public static String name(String runId, String taskId, int attempt) {
        return runId + "/" + taskId + "/" + attempt + ".ndjson";
    }

    /** Opens the log of one attempt; close it when the attempt ends (that writes it a last time). */
    public AttemptLog open(String runId, String taskId, int attempt) {
        AttemptLog[] self = new AttemptLog[1];
        AttemptLog log = new AttemptLog(store, name(runId, taskId, attempt), maxBytes, flushLines, clock,
                () -> flushSoon(self[0]));
        self[0] = log;
        ScheduledFuture<?> periodic = flusher.scheduleWithFixedDelay(log::flush, interval.toMillis(),
                interval.toMillis(), TimeUnit.MILLISECONDS);
        log.onClose(() -> periodic.cancel(false));
        return log;
    }

    private void flushSoon(AttemptLog log) {
        try {
            flusher.execute(log::flush);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down: the attempt's close writes the log a last time
        }
    }

    @Override
    public void close() {
        flusher.shutdownNow();
    }
}
