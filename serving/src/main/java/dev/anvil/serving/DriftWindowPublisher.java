package dev.anvil.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.DriftWindow;
import dev.anvil.db.DriftWindowStore;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes this process's {@link DriftSampler} windows to PostgreSQL ({@link DriftWindowStore}) every
 * {@code interval}, as {@link ServingCountsPublisher} publishes the counters: drift checks run on worker
 * processes and read every serving process's rows. Only windows that saw traffic since the last publish are
 * written.
 */
public final class DriftWindowPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DriftWindowPublisher.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DriftSampler sampler;
    private final DriftWindowStore store;
    private final String processId;
    private final Map<String, List<Long>> published = new HashMap<>();
    private final ScheduledExecutorService timer;

    /** @param interval how often the windows are published; zero: only when {@link #publish} is called */
    public DriftWindowPublisher(DriftSampler sampler, DriftWindowStore store, String processId, Duration interval) {
        this.sampler = sampler;
        this.store = store;
        this.processId = processId;
        if (interval.isZero() || !sampler.enabled()) {
            timer = null;
        } else {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "anvil-drift-windows");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::publishQuietly, interval.toMillis(), interval.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** Writes the windows that saw traffic since the last publish. */
    public synchronized void publish() {
        List<DriftWindow> changed = new ArrayList<>();
        Map<String, List<Long>> now = new HashMap<>();
        for (DriftSampler.Window w : sampler.windows()) {
            String key = w.endpoint() + "\u0000" + w.version();
            // inputs and outputs are offered apart, so either may have moved since the last publish
            List<Long> progress = List.of(w.seen(), w.classCounts().stream().mapToLong(Long::longValue).sum());
            if (!progress.equals(published.get(key))) {
                changed.add(new DriftWindow(w.endpoint(), w.version(), processId, w.seen(), w.inputName(),
                        json(w.features()), json(w.sample()), json(w.histograms()), w.classCounts(), null));
                now.put(key, progress);
            }
        }
        store.publish(processId, changed);
        published.putAll(now);
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void publishQuietly() {
        try {
            publish();
        } catch (RuntimeException e) {
            LOG.warn("could not publish the gateway's drift windows (drift checks see them late): {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        try {
            publish();
        } catch (RuntimeException e) {
            LOG.warn("could not publish the gateway's last drift windows: {}", e.getMessage());
        }
    }
}
