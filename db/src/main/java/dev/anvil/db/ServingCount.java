package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/**
 * One serving process's cumulative counters for one version of an endpoint.
 *
 * @param latencyBuckets requests per latency bucket, cumulative like {@code requests}
 */
public record ServingCount(String endpoint, int version, String processId, long requests, long errors,
        List<Long> latencyBuckets, Instant updatedAt) {
    public ServingCount {
        latencyBuckets = List.copyOf(latencyBuckets);
    }
}
