package dev.anvil.serving;

import dev.anvil.db.ServingCount;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.LatencyBuckets;
import dev.anvil.workflows.rollout.VersionCounts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's counters across processes. API pods serve traffic and worker pods run rollouts, so a
 * rollout must not read only its own process's {@link ServingMetrics}: every serving process publishes
 * its cumulative counters to PostgreSQL ({@link ServingCountsStore}) every {@code interval} (only the
 * versions that changed), and {@link #counts} publishes this process's own first, then sums every
 * process's rows. Another process's traffic is therefore seen at most one interval late, which a rollout
 * window of minutes absorbs; counters of a process that restarted stay as they were under its old id.
 */
public final class SharedServingCounts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SharedServingCounts.class);

    private final ServingMetrics local;
    private final ServingCountsStore store;
    private final String processId;
    private final Map<String, VersionCounts> published = new HashMap<>();
    private final ScheduledExecutorService timer;

    /** @param interval how often this process's counters are published; zero: only when {@link #counts} is called */
    public SharedServingCounts(ServingMetrics local, ServingCountsStore store, String processId, Duration interval) {
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

    /** Every process's cumulative counters for the endpoint, summed per version. */
    public EndpointCounts counts(String endpoint) {
        publish();
        Map<Integer, VersionCounts> sums = new TreeMap<>();
        for (ServingCount row : store.list(endpoint)) {
            if (row.latencyBuckets().size() != LatencyBuckets.count()) {
                LOG.warn("serving counts of endpoint '{}' version {} from process {} have {} latency buckets, not {};"
                        + " left out (written by another Anvil version?)", endpoint, row.version(), row.processId(),
                        row.latencyBuckets().size(), LatencyBuckets.count());
                continue;
            }
            VersionCounts sum = sums.getOrDefault(row.version(), VersionCounts.empty(row.version()));
            List<Long> buckets = new ArrayList<>(sum.latencyBuckets());
            for (int i = 0; i < buckets.size(); i++) {
                buckets.set(i, buckets.get(i) + row.latencyBuckets().get(i));
            }
            sums.put(row.version(), new VersionCounts(row.version(), sum.requests() + row.requests(),
                    sum.errors() + row.errors(), buckets));
        }
        return new EndpointCounts(endpoint, List.copyOf(sums.values()));
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
