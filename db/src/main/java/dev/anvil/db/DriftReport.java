package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/** A row of drift_reports: one drift check of an endpoint version against a reference dataset version. */
public record DriftReport(long id, String endpoint, int version, String referenceDataset, int referenceVersion,
                          boolean drifted, List<String> movedFeatures, String reportJson, String runId, String taskId,
                          Instant createdAt) {
}
