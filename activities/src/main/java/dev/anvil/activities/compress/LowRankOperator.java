package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.compress.InputGrams;
import dev.anvil.modelkit.compress.LowRankFactorizer;
import dev.anvil.modelkit.compress.LowRankOptions;
import dev.anvil.modelkit.compress.LowRankReport;
import dev.anvil.modelkit.compress.SequentialRefinement;
import dev.anvil.modelkit.compress.TokenCounts;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code lowrank}: truncated SVD of Gemm/MatMul weights (and 1×1 convolutions, and with {@code embeddings} embedding
 * tables) into two smaller products; {@code method: activation_aware} weighs each layer by its inputs on
 * {@code calibration.dataset}.
 */
public final class LowRankOperator extends CompressionOperator {
    /** Calibration samples by default: enough for XᵀX of MiniLM's 1536-wide inputs (128 texts, ~10k tokens). */
    static final int DEFAULT_SAMPLES = 128;

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
        LowRankOptions.Method method = switch (With.string(with, "method", "svd")) {
            case "svd" -> LowRankOptions.Method.SVD;
            case "activation_aware" -> LowRankOptions.Method.ACTIVATION_AWARE;
            default -> throw new IllegalArgumentException("method must be svd or activation_aware, got "
                    + with.get("method"));
        };
        LowRankOptions.Allocation allocation = switch (With.string(with, "allocation", "energy")) {
            case "energy" -> LowRankOptions.Allocation.ENERGY;
            case "error" -> LowRankOptions.Allocation.ERROR;
            default -> throw new IllegalArgumentException("allocation must be energy or error, got "
                    + with.get("allocation"));
        };
        LowRankOptions.Refinement refinement = switch (With.string(with, "refine", "none")) {
            case "none" -> LowRankOptions.Refinement.NONE;
            case "sequential" -> LowRankOptions.Refinement.SEQUENTIAL;
            default -> throw new IllegalArgumentException("refine must be none or sequential, got " + with.get("refine"));
        };
        LowRankOptions.EmbeddingWeights embeddingWeights = switch (With.string(with, "embedding_weights", "uniform")) {
            case "uniform" -> LowRankOptions.EmbeddingWeights.UNIFORM;
            case "token_frequency" -> LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY;
            default -> throw new IllegalArgumentException("embedding_weights must be uniform or token_frequency, got "
                    + with.get("embedding_weights"));
        };
        LowRankOptions options = new LowRankOptions(With.number(with, "energy"), With.number(with, "param_ratio"), ranks,
                With.names(with, "skip"), method, allocation, With.bool(with, "embeddings", false), refinement,
                embeddingWeights, With.number(with, "frequency_floor"));
        Map<String, Object> calibration = calibration(with, options);
        int samples = calibration == null ? 0 : calibrationSamples(calibration);
        return (model, context) -> {
            LowRankFactorizer.Progress progress =
                    (done, total) -> context.heartbeat(new Heartbeat("decomposition", done, total));
            long rows = 0;
            LowRankReport report;
            if (calibration == null) {
                report = LowRankFactorizer.factorize(model, options, progress);
            } else {
                Path file = dataset(context, calibration, "calibration_dataset");
                try {
                    Map<String, InputGrams.Gram> grams = method == LowRankOptions.Method.ACTIVATION_AWARE
                            ? grams(model, context, options, file, samples) : null;
                    rows = grams == null ? 0 : grams.values().stream().mapToLong(InputGrams.Gram::rows).max().orElse(0);
                    Map<String, long[]> counts = null;
                    if (embeddingWeights == LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY) {
                        try (DatasetReader reader = DatasetReader.open(file)) {
                            counts = TokenCounts.count(reader, LowRankFactorizer.tokenCountInputs(model, options), samples);
                        }
                    }
                    LowRankFactorizer.Analysis analysis = LowRankFactorizer.analyse(model, options, grams, counts,
                            progress);
                    report = refinement == LowRankOptions.Refinement.SEQUENTIAL
                            ? refine(model, context, options, analysis, file, samples)
                            : LowRankFactorizer.apply(model, options, analysis);
                } finally {
                    Files.deleteIfExists(file);
                }
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("method", method == LowRankOptions.Method.SVD ? "svd" : "activation_aware");
            out.put("allocation", allocation == LowRankOptions.Allocation.ENERGY ? "energy" : "error");
            out.put("refine", refinement == LowRankOptions.Refinement.NONE ? "none" : "sequential");
            if (options.embeddings()) {
                out.put("embedding_weights", embeddingWeights == LowRankOptions.EmbeddingWeights.UNIFORM ? "uniform"
                        : "token_frequency");
                if (options.frequencyFloor() != null) {
                    out.put("frequency_floor", options.frequencyFloor());
                }
            }
            if (calibration != null) {
                out.put("calibration_samples", samples);
                out.put("calibration_rows", rows);
            }
            out.put("params_before", report.paramsBefore());
            out.put("params_after", report.paramsAfter());
            out.put("param_ratio", With.round(report.paramRatio()));
            out.put("model_params_before", report.modelParamsBefore());
            out.put("model_params_after", report.modelParamsAfter());
            out.put("model_param_ratio", With.round(report.modelParamRatio()));
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
                    row.put("method", l.method());
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

    /**
     * {@code with.calibration}, checked: activation-aware factorisation (and sequential refinement) and token-frequency
     * weights need its dataset, plain SVD with uniform embedding rows reads none.
     */
    private static Map<String, Object> calibration(Map<String, Object> with, LowRankOptions options) {
        Object value = with.get("calibration");
        boolean tokens = options.embeddingWeights() == LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY;
        if (options.method() == LowRankOptions.Method.SVD && !tokens) {
            if (value != null) {
                throw new IllegalArgumentException("calibration is read only by method: activation_aware and"
                        + " embedding_weights: token_frequency; leave it out or set one of them");
            }
            return null;
        }
        if (!(value instanceof Map<?, ?> map) || map.get("dataset") == null) {
            throw new IllegalArgumentException((tokens && options.method() == LowRankOptions.Method.SVD
                    ? "embedding_weights: token_frequency counts the ids of a dataset"
                    : "method: activation_aware weighs each layer by its inputs on a dataset")
                    + ": give with.calibration.dataset (a dataset artifact, as evaluation takes)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) map;
        return spec;
    }

    private static int calibrationSamples(Map<String, Object> calibration) {
        Object value = calibration.getOrDefault("samples", DEFAULT_SAMPLES);
        if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 1
                || n.longValue() > InputGrams.MAX_SAMPLES) {
            throw new IllegalArgumentException("calibration.samples must be a whole number from 1 to "
                    + InputGrams.MAX_SAMPLES + ", got " + value);
        }
        return n.intValue();
    }

    private Map<String, InputGrams.Gram> grams(OnnxModel model, TaskContext context, LowRankOptions options,
            Path file, int samples) throws IOException, OrtException {
        context.heartbeat(new Heartbeat("calibration", 0, samples));
        try (DatasetReader reader = DatasetReader.open(file)) {
            return InputGrams.measure(env(), model, LowRankFactorizer.calibrationInputs(model, options), reader, samples);
        } catch (OrtException e) {
            throw modelError(e, "measure the layers' inputs");
        }
    }

    private LowRankReport refine(OnnxModel model, TaskContext context, LowRankOptions options,
            LowRankFactorizer.Analysis analysis, Path file, int samples) throws IOException, OrtException {
        try {
            return SequentialRefinement.apply(env(), model, options, analysis, file, samples,
                    (done, total) -> context.heartbeat(new Heartbeat("sequential refit", done, total)));
        } catch (OrtException e) {
            throw modelError(e, "refit the layers in order");
        }
    }

    private OrtException modelError(OrtException e, String what) {
        if (OrtErrors.isModelError(e)) {
            throw new InvalidTaskInputException(name() + ": ONNX Runtime cannot run the model on the calibration"
                    + " dataset to " + what + ": " + e.getMessage(), e);
        }
        return e;
    }
}
