package dev.anvil.workflows;

/**
 * What workflows carry instead of bytes: where an artifact lives, its content address and its size.
 * The bytes stay in object storage, content-addressed by {@code sha256}.
 */
public record ArtifactRef(String uri, String sha256, long size, String mediaType) {}
