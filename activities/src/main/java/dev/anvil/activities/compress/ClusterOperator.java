package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.modelkit.compress.ClusterOptions;
import dev.anvil.modelkit.compress.ClusterReport;
import dev.anvil.modelkit.compress.WeightClusterer;
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
    public String name() {
        return "cluster";
    }

    @Override
    Rewrite plan(Map<String, Object> with) {
        ClusterOptions options = new ClusterOptions(With.integer(with, "bits", 4),
                ClusterOptions.Init.parse(With.string(with, "init", "linear")), With.integer(with, "seed", 0),
                With.bool(with, "per_channel", false), With.integer(with, "iterations", 50), With.names(with, "skip"),
                With.bool(with, "uniform", false), With.bool(with, "pack_indices", false));
        return (model, context) -> {
            ClusterReport report = WeightClusterer.cluster(model, options);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("bits", report.bits());
            out.put("clusters", options.clusters());
            out.put("init", With.string(with, "init", "linear"));
            out.put("per_channel", options.perChannel());
            out.put("uniform", options.uniform());
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
                if (l.leftAlone() != null) {
                    row.put("left_alone", l.leftAlone());
                }
                layers.add(row);
            }
            out.put("layers", layers);
            return out;
        };
    }
}
