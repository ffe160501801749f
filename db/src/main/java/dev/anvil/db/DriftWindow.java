package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/**
 * A row of serving_drift_windows: one serving process's sample of an endpoint version's traffic.
 * featuresJson, sampleJson and histogramsJson are JSON text (names, rows, per-feature bin counts).
 */
public record DriftWindow(String endpoint, int version, String processId, long seen, String inputName,
                          String featuresJson, String sampleJson, String histogramsJson, List<Long> classCounts,
                          Instant updatedAt) {
}
