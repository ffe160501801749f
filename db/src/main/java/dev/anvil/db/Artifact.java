package dev.anvil.db;

import java.time.Instant;

/** A row of artifacts: bytes in object storage at uri, identified by their SHA-256 (lowercase hex). */
public record Artifact(
        String sha256,
        String uri,
        long sizeBytes,
        String mediaType,
        Long createdByTaskRun,
        Instant createdAt) {
}
