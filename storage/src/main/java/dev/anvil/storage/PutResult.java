package dev.anvil.storage;


/**
 * What {@link ObjectStore#put} stored: the artifact's reference, and whether this call published it
 * ({@code created}) or found the same bytes already stored under their sha256 (a no-op).
 */
public record PutResult(StoredObject ref, boolean created) {}
