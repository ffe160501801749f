package dev.anvil.storage;

/**
 * An object in the store: where it lives ({@code s3://bucket/sha256/ab/abcd...}), its content address,
 * its size in bytes and the media type it was first stored with. Activities turn it into the workflows'
 * artifact reference; the store itself knows nothing of workflows.
 */
public record StoredObject(String uri, String sha256, long size, String mediaType) {}
