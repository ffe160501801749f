package dev.anvil.activities.tasklog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.operators.TaskLog;
import dev.anvil.storage.ObjectStore;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One attempt's log, as NDJSON lines ({@code timestamp}, {@code level}, {@code event}, {@code logger}: the
 * fields of Airflow's structured log lines). Lines are buffered in memory and the whole log is written over
 * its object in the store at each flush ({@link TaskLogs} flushes every few seconds, sooner after many lines,
 * and at {@link #close}); S3 objects cannot be appended to, and a bounded log keeps that cheap.
 *
 * <p>Bounded: past {@code maxBytes} further output lines are dropped and a marker line says so; the
 * platform's own lines (source {@code anvil}: the end, the error) still go into a reserve kept for them.
 */
public final class AttemptLog implements TaskLog, AutoCloseable {
    public static final String MEDIA_TYPE = "application/x-ndjson";
    /** Room kept past the bound for the platform's closing lines. */
    static final int RESERVE_BYTES = 16 * 1024;
    /** A longer line is cut: a runaway line must not take the whole log. */
    static final int MAX_LINE_CHARS = 8 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(AttemptLog.class.getName());

    private final ObjectStore store;
    private final String name;
    private final long maxBytes;
    private final Clock clock;
    private final Runnable onMany;
    private final int flushLines;
    private final ByteArrayOutputStream content = new ByteArrayOutputStream();
    private final Object uploading = new Object();
    private long version;
    private long uploadedVersion;
    private int unflushedLines;
    private long dropped;
    private boolean truncated;
    private boolean closed;
    private Runnable onClose = () -> { };

    AttemptLog(ObjectStore store, String name, long maxBytes, int flushLines, Clock clock, Runnable onMany) {
        this.store = store;
        this.name = name;
        this.maxBytes = maxBytes;
        this.flushLines = flushLines;
        this.clock = clock;
        this.onMany = onMany;
    }

    /** The log's name in the store ({@code <run>/<task>/<try>.ndjson}). */
    public String name() {
        return name;
    }

    void onClose(Runnable action) {
        this.onClose = action;
    }

    @Override
    public void line(String level, String source, String message) {
        boolean many;
        synchronized (this) {
            if (closed) {
                return;
            }
            String text = message == null ? "" : message;
            if (text.length() > MAX_LINE_CHARS) {
                text = text.substring(0, MAX_LINE_CHARS) + " ... [line cut at " + MAX_LINE_CHARS + " characters]";
            }
            byte[] bytes = encode(clock.instant(), level, source, text);
            boolean platform = "anvil".equals(source);
            long limit = platform ? maxBytes + RESERVE_BYTES : maxBytes;
            if (content.size() + bytes.length > limit || (truncated && !platform)) {
                dropped++;
                if (!truncated) {
                    truncated = true;
                    append(encode(clock.instant(), "warning", "anvil", "log truncated: it reached its bound of "
                            + maxBytes + " bytes; further output is dropped (the count is at the end)"));
                }
                return;
            }
            append(bytes);
            many = ++unflushedLines >= flushLines;
        }
        if (many) {
            onMany.run();
        }
    }

    private void append(byte[] bytes) {
        content.writeBytes(bytes);
        version++;
    }

    /** Writes the log to the store if it changed since the last write; a failure is logged, not thrown. */
    public void flush() {
        byte[] snapshot;
        long snapshotVersion;
        synchronized (this) {
            if (version == uploadedVersion) {
                return;
            }
            snapshot = content.toByteArray();
            snapshotVersion = version;
            unflushedLines = 0;
        }
        synchronized (uploading) {
            // flushes may race (the timer and close): never write an older snapshot over a newer one
            if (snapshotVersion <= uploadedVersion) {
                return;
            }
            try {
                store.putLog(name, snapshot, MEDIA_TYPE);
                uploadedVersion = snapshotVersion;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "could not store task log " + name + " (" + e.getMessage()
                        + "); the next flush tries again");
            }
        }
    }

    /** Ends the log: says how many lines were dropped, if any, and writes it a last time. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            if (dropped > 0) {
                append(encode(clock.instant(), "warning", "anvil", dropped + " lines were dropped past the log's"
                        + " bound of " + maxBytes + " bytes"));
            }
            closed = true;
        }
        onClose.run();
        flush();
    }

    /** The log as stored so far (for tests and for a worker that serves its own logs). */
    public synchronized byte[] content() {
        return content.toByteArray();
    }

    private static byte[] encode(Instant at, String level, String source, String message) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("timestamp", at.toString());
        line.put("level", level);
        line.put("event", message);
        line.put("logger", source);
        try {
            return (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a log line", e);
        }
    }
}
