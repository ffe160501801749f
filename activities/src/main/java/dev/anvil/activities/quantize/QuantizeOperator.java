package dev.anvil.activities.quantize;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.quantize.CalibrationMethod;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.modelkit.quantize.Calibrator;
import dev.anvil.modelkit.quantize.ModelQuantizer;
import dev.anvil.modelkit.quantize.QuantType;
import dev.anvil.modelkit.quantize.QuantizationPlan;
import dev.anvil.modelkit.quantize.QuantizeOptions;
import dev.anvil.workflows.ArtifactRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code quantize}: turns a float ONNX model into an INT8 one, statically (QDQ, activation ranges
 * calibrated on a dataset artifact, or taken from an earlier calibration table) or dynamically.
 *
 * <p>Calibration heartbeats its progress (samples done / total) and saves a checkpoint of its statistics
 * every {@code checkpointEvery}; a retried attempt resumes from the last checkpoint. Nothing is published
 * until the quantised model has been written and loaded back in ONNX Runtime. When {@code with.evaluation}
 * names a dataset, the quantised model is compared with the float one (accuracy, top-1 agreement, cosine).
 */
public final class QuantizeOperator implements Operator {
    private final ArtifactIO artifacts;
    private final OrtEnvironment env;
    private final Duration checkpointEvery;

    public QuantizeOperator(ArtifactIO artifacts, OrtEnvironment env, Duration checkpointEvery) {
        this.artifacts = artifacts;
        this.env = env;
        this.checkpointEvery = checkpointEvery;
    }

    @Override
    public String name() {
        return "quantize";
    }

    /** What a heartbeat carries: the phase, progress, and (during calibration) the last checkpoint. */
    public record Heartbeat(String phase, long samplesDone, long total, ArtifactRef checkpoint, String key) {}

    /** A saved calibration state, tied to the model and options it belongs to. */
    public record Checkpoint(String key, Calibrator.State state) {}

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        QuantizeOptions options = options(with);
        ArtifactRef modelRef = artifacts.resolve(name(), with, "model");
        artifacts.used(context, modelRef, "model");
        List<Path> temporary = new ArrayList<>();
        try {
            Path modelFile = artifacts.fetch(modelRef, ".onnx");
            temporary.add(modelFile);
            OnnxModel model = OnnxModel.read(modelFile);
            QuantizationPlan plan = ModelQuantizer.plan(model, options);
            if (plan.targets().isEmpty()) {
                throw new InvalidTaskInputException("quantize: no node of the model can be quantised with op types "
                        + options.opTypes() + "; left in float: " + plan.leftFloatByReason());
            }
            Map<String, Object> calibration = new LinkedHashMap<>();
            CalibrationTable table = null;
            ArtifactRef tableRef = null;
            if (options.mode() == QuantizeOptions.Mode.STATIC) {
                if (with.get("calibration_table") != null) {
                    tableRef = artifacts.resolve(name(), with, "calibration_table");
                    artifacts.used(context, tableRef, "calibration_table");
                    table = loadTable(tableRef, modelRef);
                    calibration.put("reused_table", tableRef.sha256());
                } else {
                    if (with.get("dataset") == null) {
                        throw new InvalidTaskInputException("quantize: static mode needs with.dataset (a calibration"
                                + " dataset artifact) or with.calibration_table; or use mode: dynamic");
                    }
                    ArtifactRef datasetRef = artifacts.resolve(name(), with, "dataset");
                    artifacts.used(context, datasetRef, "calibration_dataset");
                    Path datasetFile = artifacts.fetch(datasetRef, ".zip");
                    temporary.add(datasetFile);
                    Calibrator.Result result = calibrate(context, model, modelRef, plan, datasetFile, options);
                    table = result.table();
                    calibration.put("samples", result.samples());
                    calibration.put("seconds", round(result.seconds()));
                }
                calibration.put("method", table.method());
                if (table.percentile() != null) {
                    calibration.put("percentile", table.percentile());
                }
                calibration.put("tensors", table.tensors().size());
            }
            context.heartbeat(new Heartbeat("rewrite", 0, 0, null, null));
            ModelQuantizer.Summary summary = options.mode() == QuantizeOptions.Mode.STATIC
                    ? ModelQuantizer.applyStatic(model, plan, table, options)
                    : ModelQuantizer.applyDynamic(model, plan, options);
            Path quantized = Files.createTempFile("anvil-quantized-", ".onnx");
            temporary.add(quantized);
            model.write(quantized);
            verifyLoads(quantized);

            Map<String, Object> outputs = new LinkedHashMap<>();
            Map<String, Object> report = report(options, modelRef, Files.size(quantized), summary, calibration);
            if (with.get("evaluation") instanceof Map<?, ?> evaluation) {
                report.put("evaluation", evaluate(context, evaluation, quantized, modelFile, temporary));
            }
            ArtifactRef out = artifacts.publish(context, quantized, ArtifactIO.ONNX_MEDIA_TYPE, "model");
            outputs.put("model", artifacts.asOutput(out));
            if (table != null) {
                ArtifactRef saved = tableRef != null ? tableRef : artifacts.publishJson(context, table, "calibration_table");
                outputs.put("calibration_table", artifacts.asOutput(saved));
            }
            outputs.put("report", report);
            return outputs;
        } catch (InvalidModelException | DatasetFormatException | IllegalArgumentException e) {
            throw new InvalidTaskInputException("quantize: " + e.getMessage(), e);
        } finally {
            for (Path p : temporary) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Calibrator.Result calibrate(TaskContext context, OnnxModel model, ArtifactRef modelRef,
            QuantizationPlan plan, Path datasetFile, QuantizeOptions options) throws IOException, OrtException {
        String key = modelRef.sha256() + "/" + options.method().wireName() + "/" + options.calibrationSamples() + "/"
                + options.batchSize() + "/" + plan.activationTensors().hashCode();
        Optional<Calibrator.State> resume = Optional.empty();
        Optional<Heartbeat> last = context.lastHeartbeat(Heartbeat.class);
        if (last.isPresent() && last.get().checkpoint() != null && key.equals(last.get().key())) {
            Checkpoint saved = artifacts.loadScratch(last.get().checkpoint(), Checkpoint.class);
            if (key.equals(saved.key())) {
                resume = Optional.of(saved.state());
            }
        }
        long[] lastSave = {System.nanoTime()};
        ArtifactRef[] checkpoint = {last.filter(h -> key.equals(h.key())).map(Heartbeat::checkpoint).orElse(null)};
        try (DatasetReader reader = DatasetReader.open(datasetFile)) {
            return new Calibrator(env).calibrate(model, modelRef.sha256(), plan.activationTensors(),
                    ModelQuantizer.smoothingCandidates(model, plan, options), reader, options, resume, (done, total, state) -> {
                        if (System.nanoTime() - lastSave[0] >= checkpointEvery.toNanos() && done < total) {
                            checkpoint[0] = artifacts.saveScratch(new Checkpoint(key, state.get()));
                            lastSave[0] = System.nanoTime();
                        }
                        context.heartbeat(new Heartbeat("calibration", done, total, checkpoint[0], key));
                    });
        } catch (OrtException e) {
            throw modelError(e, "ONNX Runtime cannot run the model for calibration");
        }
    }

    private CalibrationTable loadTable(ArtifactRef ref, ArtifactRef model) throws IOException {
        CalibrationTable table;
        try {
            table = artifacts.loadScratch(ref, CalibrationTable.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidTaskInputException("quantize: with.calibration_table is not a calibration table: "
                    + e.getOriginalMessage());
        }
        if (!CalibrationTable.FORMAT.equals(table.format())) {
            throw new InvalidTaskInputException("quantize: with.calibration_table has format '" + table.format()
                    + "', expected " + CalibrationTable.FORMAT);
        }
        if (!model.sha256().equals(table.modelSha256())) {
            throw new InvalidTaskInputException("quantize: the calibration table was measured on model "
                    + table.modelSha256() + ", not on this model (" + model.sha256() + "); recalibrate");
        }
        return table;
    }

    private Map<String, Object> evaluate(TaskContext context, Map<?, ?> evaluation, Path quantized, Path original,
            List<Path> temporary) throws IOException, OrtException {
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) evaluation;
        ArtifactRef datasetRef = artifacts.resolve(name(), spec, "dataset");
        artifacts.used(context, datasetRef, "evaluation_dataset");
        Path datasetFile = artifacts.fetch(datasetRef, ".zip");
        temporary.add(datasetFile);
        String pooling = String.valueOf(spec.getOrDefault("pooling", "none"));
        ModelComparator.Pooling p = switch (pooling) {
            case "none" -> ModelComparator.Pooling.NONE;
            case "mean" -> ModelComparator.Pooling.MEAN;
            default -> throw new InvalidTaskInputException("quantize: evaluation.pooling must be none or mean, got "
                    + pooling);
        };
        long limit = ((Number) spec.getOrDefault("samples", 0)).longValue();
        ModelComparator.Comparison c;
        try {
            c = new ModelComparator(env).compare(quantized, original, datasetFile, p, 32, limit,
                    (done, total) -> context.heartbeat(new Heartbeat("evaluation", done, total, null, null)));
        } catch (OrtException e) {
            throw modelError(e, "ONNX Runtime cannot evaluate the model");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", c.samples());
        if (c.candidateAccuracy() != null) {
            out.put("accuracy", round(c.candidateAccuracy()));
            out.put("float_accuracy", round(c.referenceAccuracy()));
            out.put("accuracy_drop_points", round(c.accuracyDropPoints().orElseThrow()));
        }
        if (c.top1Agreement() != null) {
            out.put("top1_agreement", round(c.top1Agreement()));
        }
        // null with the reason where cosine is undefined (all-zero outputs), never NaN or a made-up 0
        out.put("mean_cosine", c.meanCosine() == null ? null : round(c.meanCosine()));
        out.put("min_cosine", c.minCosine() == null ? null : round(c.minCosine()));
        if (c.cosineNote() != null) {
            out.put(c.meanCosine() == null ? "mean_cosine_absent_reason" : "cosine_note", c.cosineNote());
        }
        out.put("seconds", round(c.seconds()));
        return out;
    }

    private void verifyLoads(Path quantized) throws IOException, OrtException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession ignored = OrtSessions.open(env, quantized, so)) {
            // loading proves ONNX Runtime accepts the rewritten graph
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidTaskInputException("quantize: the quantised model does not load in ONNX Runtime ("
                        + e.getMessage() + "); exclude the failing node or op type and retry", e);
            }
            throw e;
        }
    }

    private static OrtException modelError(OrtException e, String what) throws OrtException {
        if (OrtErrors.isModelError(e)) {
            throw new InvalidTaskInputException("quantize: " + what + ": " + e.getMessage(), e);
        }
        return e;
    }

    private static Map<String, Object> report(QuantizeOptions options, ArtifactRef model, long sizeAfter,
            ModelQuantizer.Summary summary, Map<String, Object> calibration) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("mode", options.mode().name().toLowerCase());
        report.put("activation_type", options.activationType().wireName());
        report.put("weight_type", options.weightType().wireName());
        report.put("per_channel", options.perChannel());
        report.put("size_before", model.size());
        report.put("size_after", sizeAfter);
        report.put("size_ratio", round((double) sizeAfter / model.size()));
        report.put("nodes_quantized", summary.plan().targets().size());
        report.put("nodes_quantized_by_op", summary.plan().targetsByOpType());
        report.put("weights_quantized", summary.weightsQuantized());
        report.put("activations_quantized", summary.activationsQuantized());
        report.put("biases_quantized", summary.biasesQuantized());
        if (options.mode() == QuantizeOptions.Mode.STATIC) {
            report.put("activations_smoothed", summary.activationsSmoothed());
        }
        report.put("left_float", QuantizationPlan.byReason(summary.leftFloat()));
        List<Map<String, String>> nodes = new ArrayList<>();
        for (QuantizationPlan.LeftFloat l : summary.leftFloat().subList(0, Math.min(50, summary.leftFloat().size()))) {
            nodes.add(Map.of("node", l.node(), "op", l.opType(), "reason", l.reason()));
        }
        report.put("left_float_nodes", nodes);
        if (!calibration.isEmpty()) {
            report.put("calibration", calibration);
        }
        return report;
    }

    static QuantizeOptions options(Map<String, Object> with) {
        try {
            String mode = string(with, "mode", "static");
            QuantizeOptions base = switch (mode) {
                case "static" -> QuantizeOptions.staticDefaults(CalibrationMethod.parse(string(with, "method", "minmax")));
                case "dynamic" -> QuantizeOptions.dynamicDefaults();
                default -> throw new IllegalArgumentException("mode must be static or dynamic, got '" + mode + "'");
            };
            return new QuantizeOptions(base.mode(),
                    QuantType.parse(string(with, "activation_type", base.activationType().wireName())),
                    QuantType.parse(string(with, "weight_type", base.weightType().wireName())),
                    bool(with, "per_channel", base.perChannel()),
                    bool(with, "symmetric_activations", base.symmetricActivations()),
                    base.method(),
                    number(with, "percentile", base.percentile()).doubleValue(),
                    number(with, "samples", 0).longValue(),
                    number(with, "batch_size", base.batchSize()).intValue(),
                    strings(with, "op_types", base.opTypes()),
                    strings(with, "exclude_op_types", Set.of()),
                    strings(with, "exclude_nodes", Set.of()),
                    number(with, "smooth", base.smoothAlpha()).doubleValue());
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new InvalidTaskInputException("quantize: " + e.getMessage(), e);
        }
    }

    private static String string(Map<String, Object> with, String key, String fallback) {
        Object v = with.get(key);
        return v == null ? fallback : v.toString();
    }

    private static boolean bool(Map<String, Object> with, String key, boolean fallback) {
        Object v = with.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException(key + " must be true or false, got " + v);
    }

    private static Number number(Map<String, Object> with, String key, Number fallback) {
        Object v = with.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n;
        }
        throw new IllegalArgumentException(key + " must be a number, got " + v);
    }

    private static Set<String> strings(Map<String, Object> with, String key, Set<String> fallback) {
        Object v = with.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Collection<?> c) {
            Set<String> out = new java.util.LinkedHashSet<>();
            c.forEach(x -> out.add(String.valueOf(x)));
            return out;
        }
        throw new IllegalArgumentException(key + " must be a list of names, got " + v);
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
