package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.modelkit.compress.LowRankFactorizer;
import dev.anvil.modelkit.compress.LowRankOptions;
import dev.anvil.modelkit.compress.LowRankReport;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code lowrank}: truncated SVD of Gemm/MatMul weights into two smaller products. */
public final class LowRankOperator extends CompressionOperator {
    public LowRankOperator(ArtifactIO artifacts, OrtEnvironment env) {
        super(artifacts, env);
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.LOWRANK;
    }

    @Override
    Rewrite plan(Map<String, Object> with) {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        With.numbersByLayer(with, "ranks").forEach((layer, r) -> {
            if (r != Math.rint(r)) {
                throw new IllegalArgumentException("ranks." + layer + " must be a whole number, got " + r);
            }
            ranks.put(layer, r.intValue());
        });
        LowRankOptions options = new LowRankOptions(With.number(with, "energy"), With.number(with, "param_ratio"), ranks,
                With.names(with, "skip"));
        return (model, context) -> {
            LowRankReport report = LowRankFactorizer.factorize(model, options,
                    (done, total) -> context.heartbeat(new Heartbeat("decomposition", done, total)));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("params_before", report.paramsBefore());
            out.put("params_after", report.paramsAfter());
            out.put("param_ratio", With.round(report.paramRatio()));
            List<Map<String, Object>> layers = new ArrayList<>();
            for (LowRankReport.Layer l : report.layers()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", l.name());
                row.put("op", l.opType());
                if (l.fullRank() > 0) {
                    row.put("shape", List.of(l.rows(), l.columns()));
                    row.put("rank", l.rank());
                    row.put("full_rank", l.fullRank());
                    row.put("energy_kept", With.round(l.energyKept()));
                }
                row.put("params_before", l.paramsBefore());
                row.put("params_after", l.paramsAfter());
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
