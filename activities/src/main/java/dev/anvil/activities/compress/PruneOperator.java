package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.compress.ChannelActivations;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        for (String key : List.of("importance", "calibration")) {
            if (with.get(key) != null) {
                throw new IllegalArgumentException(key + " ranks whole channels, so it needs structured: true;"
                        + " unstructured pruning ranks single weights by magnitude");
            }
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
        for (String key : List.of("sparsity", "scope", "layers", "skip", "structured", "norm", "importance",
                "calibration")) {
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

    /**
     * Whole channels and neurons: {@code sparsity} is the fraction of each qualifying layer's channels removed,
     * ranked by weight norm or ({@code importance: activation}) by mean |activation| on {@code calibration.dataset}.
     */
    private Rewrite structured(Map<String, Object> with, double fraction) {
        String norm = With.string(with, "norm", "l1");
        if (!norm.equals("l1") && !norm.equals("l2")) {
            throw new IllegalArgumentException("norm must be l1 or l2, got '" + norm + "'");
        }
        String importance = With.string(with, "importance", "norm");
        if (!importance.equals("norm") && !importance.equals("activation")) {
            throw new IllegalArgumentException("importance must be norm or activation, got '" + importance + "'");
        }
        boolean byActivation = importance.equals("activation");
        Map<String, Object> calibration = calibration(with, byActivation);
        int samples = calibration == null ? 0 : calibrationSamples(calibration);
        StructuredPruner.Options options = new StructuredPruner.Options(fraction, With.numbersByLayer(with, "layers"),
                With.names(with, "skip"), norm.equals("l2"), byActivation ? StructuredPruner.Importance.ACTIVATION
                        : StructuredPruner.Importance.NORM);
        return (model, context) -> {
            StructuredPruner.Report report = byActivation ? byActivation(model, context, options, calibration, samples)
                    : StructuredPruner.prune(model, options);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("structured", true);
            out.put("importance", importance);
            if (byActivation) {
                out.put("activation_samples", report.activationSamples());
            } else {
                out.put("norm", norm);
            }
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
                if (l.importance() != null) {
                    row.put("importance", l.importance());
                }
                if (l.meanFolded() != null) {
                    row.put("mean_folded", l.meanFolded());
                }
                if (l.notFolded() != null) {
                    row.put("not_folded", l.notFolded());
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

    /** {@code with.calibration}, checked: activation importance needs its dataset, norm importance reads none. */
    private static Map<String, Object> calibration(Map<String, Object> with, boolean byActivation) {
        Object value = with.get("calibration");
        if (!byActivation) {
            if (value != null) {
                throw new IllegalArgumentException("calibration is read only by importance: activation; leave it out"
                        + " or set importance: activation");
            }
            return null;
        }
        if (!(value instanceof Map<?, ?> map) || map.get("dataset") == null) {
            throw new IllegalArgumentException("importance: activation ranks channels by their mean |activation| on a"
                    + " dataset: give with.calibration.dataset (a dataset artifact, as evaluation takes)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) map;
        return spec;
    }

    private static int calibrationSamples(Map<String, Object> calibration) {
        Object value = calibration.getOrDefault("samples", ChannelActivations.MAX_SAMPLES);
        if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 1
                || n.longValue() > ChannelActivations.MAX_SAMPLES) {
            throw new IllegalArgumentException("calibration.samples must be a whole number from 1 to "
                    + ChannelActivations.MAX_SAMPLES + ", got " + value);
        }
        return n.intValue();
    }

    private StructuredPruner.Report byActivation(OnnxModel model, TaskContext context, StructuredPruner.Options options,
            Map<String, Object> calibration, int samples) throws IOException, OrtException {
        Path file = dataset(context, calibration, "calibration_dataset");
        try (DatasetReader reader = DatasetReader.open(file)) {
            return StructuredPruner.prune(model, options, new ChannelActivations(env(), reader, samples));
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidTaskInputException(name() + ": ONNX Runtime cannot run the model on the calibration"
                        + " dataset to measure activations: " + e.getMessage(), e);
            }
            throw e;
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
