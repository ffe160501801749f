package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.modelkit.compress.MagnitudePruner;
import dev.anvil.modelkit.compress.PruneOptions;
import dev.anvil.modelkit.compress.PruneReport;
import dev.anvil.modelkit.compress.StructuredPruner;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code prune}: unstructured magnitude pruning, global or per layer, with a per-layer report; with
 * {@code structured: true}, whole Conv channels and Gemm neurons are removed instead (smaller and faster).
 */
public final class PruneOperator extends CompressionOperator {
    public PruneOperator(ArtifactIO artifacts, OrtEnvironment env) {
        super(artifacts, env);
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.PRUNE;
    }

    @Override
    Rewrite plan(Map<String, Object> with) {
        String scope = With.string(with, "scope", "per_layer");
        if (!scope.equals("global") && !scope.equals("per_layer")) {
            throw new IllegalArgumentException("scope must be global or per_layer, got '" + scope + "'");
        }
        if (with.get("mask_from") != null) {
            return maskFrom(with);
        }
        Double sparsity = With.number(with, "sparsity");
        if (sparsity == null) {
            throw new IllegalArgumentException("needs with.sparsity, the fraction of weights to set to zero (e.g. 0.5)");
        }
        if (With.bool(with, "structured", false)) {
            return structured(with, sparsity);
        }
        PruneOptions options = new PruneOptions(sparsity, scope.equals("global"), With.numbersByLayer(with, "layers"),
                With.names(with, "skip"));
        return (model, context) -> {
            PruneReport report = MagnitudePruner.prune(model, options);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("scope", scope);
            out.putAll(rows(report));
            return out;
        };
    }

    /**
     * {@code mask_from}: the weights that are zero in that model (an earlier prune's output) become zero again here,
     * e.g. after fine-tuning moved them; the other options choose a mask of their own, so they are refused beside it.
     */
    private Rewrite maskFrom(Map<String, Object> with) {
        for (String key : List.of("sparsity", "scope", "layers", "skip", "structured", "norm")) {
            if (with.get(key) != null) {
                throw new IllegalArgumentException("mask_from re-imposes the zeros of an earlier prune, so " + key
                        + " has no meaning beside it; leave " + key + " out");
            }
        }
        return (model, context) -> {
            PruneReport report = MagnitudePruner.applyMask(model, reference(context, with, "mask_from"));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("mask_from", true);
            out.putAll(rows(report));
            return out;
        };
    }

    private static Map<String, Object> rows(PruneReport report) {
        Map<String, Object> out = new LinkedHashMap<>();
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
    }

    /** Whole channels and neurons: {@code sparsity} is the fraction of each qualifying layer's channels removed. */
    private static Rewrite structured(Map<String, Object> with, double fraction) {
        String norm = With.string(with, "norm", "l1");
        if (!norm.equals("l1") && !norm.equals("l2")) {
            throw new IllegalArgumentException("norm must be l1 or l2, got '" + norm + "'");
        }
        StructuredPruner.Options options = new StructuredPruner.Options(fraction, With.numbersByLayer(with, "layers"),
                With.names(with, "skip"), norm.equals("l2"));
        return (model, context) -> {
            StructuredPruner.Report report = StructuredPruner.prune(model, options);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("structured", true);
            out.put("norm", norm);
            out.put("params_before", report.paramsBefore());
            out.put("params_after", report.paramsAfter());
            List<Map<String, Object>> layers = new ArrayList<>();
            for (StructuredPruner.Layer l : report.layers()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", l.name());
                row.put("op", l.opType());
                row.put("channels_before", l.channelsBefore());
                row.put("channels_after", l.channelsAfter());
                if (l.consumer() != null) {
                    row.put("consumer", l.consumer());
                }
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
