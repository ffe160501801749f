package dev.anvil.serving;

import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.LatencyBuckets;
import dev.anvil.workflows.rollout.VersionCounts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per endpoint and model version: requests, model errors and latency. Published to Micrometer (for
 * Prometheus at /q/metrics) and kept as cumulative counters the rollout workflow reads in windows.
 */
public final class ServingMetrics {
    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, ConcurrentHashMap<Integer, Stats>> byEndpoint = new ConcurrentHashMap<>();

    public ServingMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Records one request that reached a model: how long it took and whether the model failed it. */
    public void record(String endpoint, int version, long nanos, boolean failed) {
        stats(endpoint, version).record(nanos, failed);
    }

    /** The cumulative counters of every version the endpoint has served, by version. */
    public EndpointCounts counts(String endpoint) {
        List<VersionCounts> versions = new ArrayList<>();
        byEndpoint.getOrDefault(endpoint, new ConcurrentHashMap<>()).forEach((v, s) -> versions.add(s.counts(v)));
        versions.sort(Comparator.comparingInt(VersionCounts::version));
        return new EndpointCounts(endpoint, versions);
    }

    /** The cumulative counters of every endpoint this process has served. */
    public List<EndpointCounts> all() {
        List<EndpointCounts> all = new ArrayList<>();
        byEndpoint.keySet().stream().sorted().forEach(e -> all.add(counts(e)));
        return all;
    }

    private Stats stats(String endpoint, int version) {
        return byEndpoint.computeIfAbsent(endpoint, e -> new ConcurrentHashMap<>())
                .computeIfAbsent(version, v -> new Stats(registry, endpoint, v));
    }

    private static final class Stats {
        final LongAdder requests = new LongAdder();
        final LongAdder errors = new LongAdder();
        final AtomicLongArray buckets = new AtomicLongArray(LatencyBuckets.count());
        final Counter requestCounter;
        final Counter errorCounter;
        final Timer latency;

        Stats(MeterRegistry registry, String endpoint, int version) {
            String v = Integer.toString(version);
            requestCounter = Counter.builder("anvil.gateway.requests").description("inference requests that reached a model")
                    .tag("endpoint", endpoint).tag("version", v).register(registry);
            errorCounter = Counter.builder("anvil.gateway.errors").description("inference requests the model failed (5xx)")
                    .tag("endpoint", endpoint).tag("version", v).register(registry);
            latency = Timer.builder("anvil.gateway.latency").description("inference latency through the gateway")
                    .tag("endpoint", endpoint).tag("version", v).publishPercentileHistogram().register(registry);
        }

        void record(long nanos, boolean failed) {
            requests.increment();
            requestCounter.increment();
            if (failed) {
                errors.increment();
                errorCounter.increment();
            }
            buckets.incrementAndGet(LatencyBuckets.indexOf(TimeUnit.NANOSECONDS.toMicros(nanos)));
            latency.record(nanos, TimeUnit.NANOSECONDS);
        }

        VersionCounts counts(int version) {
            List<Long> histogram = new ArrayList<>(buckets.length());
            for (int i = 0; i < buckets.length(); i++) {
                histogram.add(buckets.get(i));
            }
            return new VersionCounts(version, requests.sum(), errors.sum(), histogram);
        }
    }
}
