package dev.anvil.db;

import java.time.Instant;

/** A row of pipeline_versions: one registered text of a pipeline spec (YAML or JSON as submitted). */
public record PipelineVersion(String pipeline, int version, String spec, String specSha256, boolean paused,
                              Instant createdAt) {}
