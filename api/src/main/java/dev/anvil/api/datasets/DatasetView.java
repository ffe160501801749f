package dev.anvil.api.datasets;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.api.artifacts.ArtifactView;
import java.time.Instant;
import java.util.List;

/**
 * One version of a dataset as the API shows it: pipelines reference it by {@code artifact.sha256} (or by
 * {@code reference}, {@code dataset:<name>@<version>}).
 *
 * @param inputs  each input's dtype and one sample's shape: {@code {"input_image": {"dtype": "float32",
 *                "shape": [1, 28, 28]}}}
 * @param classes the class names labels index, when the importer knew them (image folders, labels.csv)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DatasetView(String name, int version, String reference, String format, ArtifactView artifact,
                          JsonNode inputs, long sampleCount, boolean labels, List<String> classes, String createdBy,
                          Instant createdAt, String self) {}
