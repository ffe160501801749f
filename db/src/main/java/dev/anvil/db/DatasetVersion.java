package dev.anvil.db;

import java.time.Instant;

/**
 * A row of dataset_versions: one registered version of a named dataset, whose bytes are the artifact
 * {@code artifactSha256}.
 *
 * @param format     the importer that built it (mnist, csv, text, npy, images)
 * @param inputsJson each input's dtype and per-sample shape, as checked at registration:
 *                   {@code {"input_image": {"dtype": "float32", "shape": [1, 28, 28]}}}
 */
public record DatasetVersion(String dataset, int version, String artifactSha256, String format, String inputsJson,
                             long sampleCount, boolean hasLabels, String createdBy, Instant createdAt) {}
