package dev.anvil.db;

import java.time.Instant;

/**
 * A row of pipeline_versions: one registered text of a pipeline spec (YAML or JSON as submitted).
 *
 * @param registeredBy the principal who registered it; null for versions registered before Anvil recorded it
 */
public record PipelineVersion(String pipeline, int version, String spec, String specSha256, boolean paused,
                              Instant createdAt, String registeredBy) {}
