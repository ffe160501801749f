package dev.anvil.db;

import java.time.Instant;

/** A row of model_versions: version n of a model is one artifact. metadataJson is JSON text. */
public record ModelVersion(
        String model,
        int version,
        String artifactSha256,
        Long createdByTaskRun,
        String metadataJson,
        Instant createdAt) {
}
