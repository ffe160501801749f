package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.modelkit.compress.MagnitudePruner;
import dev.anvil.modelkit.compress.PruneOptions;
import dev.anvil.modelkit.compress.PruneReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code prune}: unstructured magnitude pruning, global or per layer, with a per-layer report. */
public final class PruneOperator extends CompressionOperator {
    public PruneOperator(ArtifactIO artifacts, OrtEnvironment env) {
        super(artifacts, env);
    }

    @Override
    public String name() {
        return "prune";
    }

    @Override
    Rewrite plan(Map<String, Object> with) {
        String scope = With.string(with, "scope", "per_layer");
        if (!scope.equals("global") && !scope.equals("per_layer")) {
            throw new IllegalArgumentException("scope must be global or per_layer, got '" + scope + "'");
        }
        Double sparsity = With.number(with, "sparsity");
        if (sparsity == null) {
            throw new IllegalArgumentException("needs with.sparsity, the fraction of weights to set to zero (e.g. 0.5)");
        }
        PruneOptions options = new PruneOptions(sparsity, scope.equals("global"), With.numbersByLayer(with, "layers"),
                With.names(with, "skip"));
        return (model, context) -> {
            PruneReport report = MagnitudePruner.prune(model, options);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("scope", scope);
            out.put("params", report.params());
            out.put("zeros", report.zeros());
            out.put("sparsity", With.round(report.sparsity()));
            List<Map<String, Object>> layers = new ArrayList<>();
            for (PruneReport.Layer l : report.layers()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", l.name());
                row.put("op", l.opType());
                row.put("params", l.params());
                row.put("zeros", l.zeros());
                row.put("sparsity", With.round(l.sparsity()));
                row.put("skipped", l.skipped());
                layers.add(row);
            }
            out.put("layers", layers);
            return out;
        };
    }
}
