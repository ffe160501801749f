package dev.anvil.activities.storage;

import dev.anvil.workflows.ArtifactRef;

/**
 * What {@link ObjectStore#put} stored: the artifact's reference, and whether this call published it
 * ({@code created}) or found the same bytes already stored under their sha256 (a no-op).
 */
public record PutResult(ArtifactRef ref, boolean created) {}
