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
        LowRankOptions options = new LowRankOptions(With.number(with, "energy"), With.number(with, "param_ratio"), ranks,
                With.names(with, "skip"), method, allocation, With.bool(with, "embeddings", false));
        Map<String, Object> calibration = calibration(with, method);
        int samples = calibration == null ? 0 : calibrationSamples(calibration);
        return (model, context) -> {
            LowRankFactorizer.Progress progress =
                    (done, total) -> context.heartbeat(new Heartbeat("decomposition", done, total));
            long rows = 0;
            LowRankReport report;
            if (calibration == null) {
                report = LowRankFactorizer.factorize(model, options, progress);
            } else {
                Map<String, InputGrams.Gram> grams = grams(model, context, options, calibration, samples);
                rows = grams.values().stream().mapToLong(InputGrams.Gram::rows).max().orElse(0);
                report = LowRankFactorizer.factorize(model, options, progress, grams);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("method", method == LowRankOptions.Method.SVD ? "svd" : "activation_aware");
            out.put("allocation", allocation == LowRankOptions.Allocation.ENERGY ? "energy" : "error");
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

    /** {@code with.calibration}, checked: activation-aware factorisation needs its dataset, plain SVD reads none. */
    private static Map<String, Object> calibration(Map<String, Object> with, LowRankOptions.Method method) {
        Object value = with.get("calibration");
        if (method == LowRankOptions.Method.SVD) {
            if (value != null) {
                throw new IllegalArgumentException("calibration is read only by method: activation_aware; leave it out"
                        + " or set method: activation_aware");
            }
            return null;
        }
        if (!(value instanceof Map<?, ?> map) || map.get("dataset") == null) {
            throw new IllegalArgumentException("method: activation_aware weighs each layer by its inputs on a dataset:"
                    + " give with.calibration.dataset (a dataset artifact, as evaluation takes)");
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
            Map<String, Object> calibration, int samples) throws IOException, OrtException {
        Path file = dataset(context, calibration, "calibration_dataset");
        context.heartbeat(new Heartbeat("calibration", 0, samples));
        try (DatasetReader reader = DatasetReader.open(file)) {
            return InputGrams.measure(env(), model, LowRankFactorizer.calibrationInputs(model, options), reader, samples);
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidTaskInputException(name() + ": ONNX Runtime cannot run the model on the calibration"
                        + " dataset to measure the layers' inputs: " + e.getMessage(), e);
            }
            throw e;
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
