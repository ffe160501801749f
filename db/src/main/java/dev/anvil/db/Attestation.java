package dev.anvil.db;

import java.time.Instant;

/**
 * A row of attestations: the signed provenance (a DSSE envelope, JSON text) of an artifact that a task
 * attempt published.
 */
public record Attestation(String artifactSha256, long taskRunId, String envelopeJson, Instant createdAt) {}
