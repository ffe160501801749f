package dev.anvil.workflows.rollout;

import java.util.ArrayList;
import java.util.List;

/**
 * A model version's cumulative counters at the gateway: requests served, requests the model failed
 * (5xx), and the latency histogram over {@link LatencyBuckets}. Windows are differences of two.
 */
public record VersionCounts(int version, long requests, long errors, List<Long> latencyBuckets) {

    public static VersionCounts empty(int version) {
        List<Long> zeros = new ArrayList<>();
        for (int i = 0; i < LatencyBuckets.count(); i++) {
            zeros.add(0L);
        }
        return new VersionCounts(version, 0, 0, zeros);
    }

    /**
     * What happened between an earlier snapshot and this one. Counters that went backwards (the
     * gateway restarted and lost its in-memory counts) count from zero instead.
     */
    public VersionCounts since(VersionCounts earlier) {
        if (earlier == null || earlier.requests > requests || earlier.errors > errors) {
            return this;
        }
        List<Long> buckets = new ArrayList<>();
        for (int i = 0; i < latencyBuckets.size(); i++) {
            long before = i < earlier.latencyBuckets.size() ? earlier.latencyBuckets.get(i) : 0;
            buckets.add(Math.max(0, latencyBuckets.get(i) - before));
        }
        return new VersionCounts(version, requests - earlier.requests, errors - earlier.errors, buckets);
    }

    public double errorRate() {
        return requests == 0 ? 0 : (double) errors / requests;
    }

    public long p95Micros() {
        return LatencyBuckets.quantileMicros(latencyBuckets, 0.95);
    }
}
