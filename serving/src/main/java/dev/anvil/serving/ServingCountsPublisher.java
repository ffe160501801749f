package dev.anvil.serving;

import dev.anvil.db.ServingCount;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.VersionCounts;
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
 * Publishes this serving process's counters for rollouts on any process. API pods serve traffic and
 * worker pods run rollouts, so a rollout reads no process's {@link ServingMetrics}: every serving process
 * publishes its cumulative counters to PostgreSQL ({@link ServingCountsStore}) every {@code interval}
 * (only the versions that changed), and the rollout sums every process's rows
 * ({@link ServingCountsStore#sum}). Traffic is therefore seen at most one interval late, which a rollout
 * window absorbs; counters of a process that restarted stay as they were under its old id.
 */
public final class ServingCountsPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServingCountsPublisher.class);

    private final ServingMetrics local;
    private final ServingCountsStore store;
    private final String processId;
    private final Map<String, VersionCounts> published = new HashMap<>();
    private final ScheduledExecutorService timer;

    /** @param interval how often this process's counters are published; zero: only when {@link #publish} is called */
    public ServingCountsPublisher(ServingMetrics local, ServingCountsStore store, String processId, Duration interval) {
        this.local = local;
        this.store = store;
        this.processId = processId;
        if (interval.isZero()) {
            timer = null;
        } else {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "anvil-serving-counts");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::publishQuietly, interval.toMillis(), interval.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    public String processId() {
        return processId;
    }

    /** Writes this process's counters that changed since the last publish. */
    public synchronized void publish() {
        List<ServingCount> changed = new ArrayList<>();
        Map<String, VersionCounts> now = new HashMap<>();
        for (EndpointCounts endpoint : local.all()) {
            for (VersionCounts v : endpoint.versions()) {
                String key = endpoint.endpoint() + "\u0000" + v.version();
                if (!v.equals(published.get(key))) {
                    changed.add(new ServingCount(endpoint.endpoint(), v.version(), processId, v.requests(), v.errors(),
                            v.latencyBuckets(), null));
                    now.put(key, v);
                }
            }
        }
        store.publish(processId, changed);
        published.putAll(now);
    }

    private void publishQuietly() {
        try {
            publish();
        } catch (RuntimeException e) {
            LOG.warn("could not publish the gateway's counters (rollouts on other processes see them late): {}",
                    e.getMessage());
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        try {
            publish(); // the last counts of a process shutting down
        } catch (RuntimeException e) {
            LOG.warn("could not publish the gateway's last counters: {}", e.getMessage());
        }
    }
}
