package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.modelkit.compress.ClusterOptions;
import dev.anvil.modelkit.compress.ClusterReport;
import dev.anvil.modelkit.compress.WeightClusterer;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code cluster}: weight sharing by k-means, stored as (packed) uint8 indices and a float codebook, or
 * a uniform one as scale and zero point. */
public final class ClusterOperator extends CompressionOperator {
    public ClusterOperator(ArtifactIO artifacts, OrtEnvironment env) {
        super(artifacts, env);
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.CLUSTER;
    }

    @Override
    Rewrite plan(Map<String, Object> with) {
        if (with.get("codebook_from") != null) {
            return codebookFrom(with);
        }
        ClusterOptions options = new ClusterOptions(With.integer(with, "bits", 4),
                ClusterOptions.Init.parse(With.string(with, "init", "linear")), With.integer(with, "seed", 0),
                With.bool(with, "per_channel", false), With.integer(with, "iterations", 50), With.names(with, "skip"),
                With.bool(with, "uniform", false), With.bool(with, "pack_indices", false), bitsByLayer(with),
                With.bool(with, "zero_centroid", false));
        return (model, context) -> {
            ClusterReport report = WeightClusterer.cluster(model, options);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("bits", report.bits());
            out.put("clusters", options.clusters());
            out.put("init", With.string(with, "init", "linear"));
            out.put("per_channel", options.perChannel());
            out.put("uniform", options.uniform());
            out.put("pack_indices", options.pack());
            if (!options.layerBits().isEmpty()) {
                out.put("layer_bits", new java.util.TreeMap<>(options.layerBits()));
            }
            out.put("zero_centroid", options.zeroCentroid());
            out.putAll(rows(report));
            return out;
        };
    }

    /** {@code layers: {name: bits}}: the index width of those layers, overriding {@code bits}. */
    private static Map<String, Integer> bitsByLayer(Map<String, Object> with) {
        Map<String, Integer> out = new LinkedHashMap<>();
        With.numbersByLayer(with, "layers").forEach((name, v) -> {
            if (v != Math.rint(v)) {
                throw new IllegalArgumentException("layers." + name + " must be a whole number of bits (2 to 8), got " + v);
            }
            out.put(name, v.intValue());
        });
        return out;
    }

    /**
     * {@code codebook_from}: that model's clustering (an earlier cluster's output) imposed again, e.g. after
     * fine-tuning: the same indices, and its shared values kept ({@code centroids: keep}) or refitted to the weights
     * ({@code centroids: refit}), stored as that model stored them (b-bit packed indices where it packed them). The
     * options that make a clustering or a storage of their own are refused beside it.
     */
    private Rewrite codebookFrom(Map<String, Object> with) {
        for (String key : List.of("bits", "init", "seed", "per_channel", "iterations", "skip", "layers", "zero_centroid")) {
            if (with.get(key) != null) {
                throw new IllegalArgumentException("codebook_from re-imposes an earlier clustering, so " + key
                        + " has no meaning beside it; leave " + key + " out");
            }
        }
        for (String key : List.of("pack_indices", "uniform")) {
            if (with.get(key) != null) {
                throw new IllegalArgumentException("codebook_from stores the indices and codebook as the codebook_from"
                        + " model stores them (packed where it packed them), so " + key + " has no meaning beside it;"
                        + " leave " + key + " out");
            }
        }
        String centroids = With.string(with, "centroids", "keep");
        if (!centroids.equals("keep") && !centroids.equals("refit")) {
            throw new IllegalArgumentException("centroids must be keep or refit, got '" + centroids + "'");
        }
        return (model, context) -> {
            ClusterReport report = WeightClusterer.applyCodebook(model, reference(context, with, "codebook_from"),
                    centroids.equals("refit"));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("codebook_from", true);
            out.put("centroids", centroids);
            out.put("bits", report.bits());
            out.put("pack_indices", report.layers().stream().anyMatch(ClusterReport.Layer::packedIndices));
            out.putAll(rows(report));
            return out;
        };
    }

    private static Map<String, Object> rows(ClusterReport report) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("weight_bytes_before", report.weightBytesBefore());
        out.put("weight_bytes_after", report.weightBytesAfter());
        List<Map<String, Object>> layers = new ArrayList<>();
        for (ClusterReport.Layer l : report.layers()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", l.name());
            row.put("op", l.opType());
            row.put("params", l.params());
            row.put("clusters", l.clusters());
            row.put("bytes_before", l.bytesBefore());
            row.put("bytes_after", l.bytesAfter());
            row.put("stored_bits_per_weight", With.round(l.storedBitsPerWeight()));
            row.put("mean_squared_error", l.meanSquaredError());
            row.put("storage", l.storage());
            row.put("packed_indices", l.packedIndices());
            if (l.leftAlone() == null) {
                row.put("bits", l.bits());
            }
            if (l.leftAlone() != null) {
                row.put("left_alone", l.leftAlone());
            }
            layers.add(row);
        }
        out.put("layers", layers);
        return out;
    }
}
