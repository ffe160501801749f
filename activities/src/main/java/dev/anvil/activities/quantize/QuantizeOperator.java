package dev.anvil.activities.quantize;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.compress.SharedWeights;
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
import dev.anvil.modelkit.validate.ModelEvaluator;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
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
 * every {@code checkpointEvery}; a retried attempt resumes from the last checkpoint.
 *
 * <p>Nothing is published until the quantised model has been written, loaded back in ONNX Runtime and
 * evaluated against the float model: on {@code with.evaluation.dataset}, else on a slice held out of the
 * calibration set ({@link EvaluationSets}). Below its floor ({@link QuantizeFloor}) the task fails without
 * retries and publishes nothing. {@code method: auto} quantises with minmax, percentile and entropy ranges
 * from one calibration and keeps the best ({@link MethodChoice}). FP32 and INT8 latency per batch are
 * measured on the evaluation samples and a slower INT8 model is a warning in the report.
 */
public final class QuantizeOperator implements Operator {
    static final String AUTO = "auto";
    /** Samples per run when evaluating and timing (the batch {@code latency_ms} is per). */
    static final int EVALUATION_BATCH = 32;
    static final int LATENCY_THREADS = 1;
    static final int LATENCY_WARMUP_BATCHES = 2;
    static final int LATENCY_MIN_BATCHES = 10;
    static final int LATENCY_MAX_BATCHES = 12;
    private final ArtifactIO artifacts;
    private final OrtEnvironment env;
    private final Duration checkpointEvery;

    public QuantizeOperator(ArtifactIO artifacts, OrtEnvironment env, Duration checkpointEvery) {
        this.artifacts = artifacts;
        this.env = env;
        this.checkpointEvery = checkpointEvery;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.QUANTIZE;
    }

    /** What a heartbeat carries: the phase, progress, and (during calibration) the last checkpoint. */
    public record Heartbeat(String phase, long samplesDone, long total, ArtifactRef checkpoint, String key) {}

    /** A saved calibration state, tied to the model and options it belongs to. */
    public record Checkpoint(String key, Calibrator.State state) {}

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        QuantizeOptions options = options(with);
        boolean auto = AUTO.equals(with.get("method"));
        QuantizeFloor floor = QuantizeFloor.parse(with.get("floor"));
        Map<String, Object> evaluationSpec = evaluationSpec(with);
        if (auto && options.mode() == QuantizeOptions.Mode.DYNAMIC) {
            throw new InvalidTaskInputException("quantize: method: auto chooses among calibration methods, which only"
                    + " static mode has; use mode: static, or leave method out for dynamic mode");
        }
        if (auto && with.get("calibration_table") != null) {
            throw new InvalidTaskInputException("quantize: method: auto calibrates to compare minmax, percentile and"
                    + " entropy, so it cannot reuse with.calibration_table (one method's ranges); leave one of them out");
        }
        ArtifactRef modelRef = artifacts.resolve(name(), with, "model");
        artifacts.used(context, modelRef, "model");
        List<Path> temporary = new ArrayList<>();
        try {
            Path modelFile = artifacts.fetch(modelRef, ".onnx");
            temporary.add(modelFile);
            OnnxModel model = OnnxModel.read(modelFile);
            // weights a cluster task shares are rebuilt by Gather at load, out of the quantiser's sight: turned back
            // into the float initializers they stand for (the same values), they are quantised like any other
            List<String> unfolded = SharedWeights.unfold(model);
            if (!unfolded.isEmpty()) {
                model.write(modelFile);
            }
            QuantizationPlan plan = ModelQuantizer.plan(model, options);
            if (plan.targets().isEmpty()) {
                throw new InvalidTaskInputException("quantize: no node of the model can be quantised with op types "
                        + options.opTypes() + "; left in float: " + plan.leftFloatByReason());
            }
            List<String> warnings = new ArrayList<>();
            Map<String, Object> calibration = new LinkedHashMap<>();
            Map<String, Object> evaluationSource = new LinkedHashMap<>();
            Path evaluationFile = null;
            if (evaluationSpec.get("dataset") != null) {
                evaluationFile = fetchDataset(context, evaluationSpec, "dataset", "evaluation_dataset", temporary);
                evaluationSource.put("source", "with.evaluation.dataset");
            }
            // the ranges each candidate is quantised with, in the order tried (one unless method: auto)
            Map<String, CalibrationTable> tables = new LinkedHashMap<>();
            ArtifactRef tableRef = null;
            if (options.mode() == QuantizeOptions.Mode.STATIC) {
                if (with.get("calibration_table") != null) {
                    tableRef = artifacts.resolve(name(), with, "calibration_table");
                    artifacts.used(context, tableRef, "calibration_table");
                    CalibrationTable table = loadTable(tableRef, modelRef);
                    calibration.put("reused_table", tableRef.sha256());
                    tables.put(table.method(), table);
                } else {
                    if (with.get("dataset") == null) {
                        throw new InvalidTaskInputException("quantize: static mode needs with.dataset (a calibration"
                                + " dataset artifact) or with.calibration_table; or use mode: dynamic");
                    }
                    Path datasetFile = fetchDataset(context, with, "dataset", "calibration_dataset", temporary);
                    Path calibrationFile = datasetFile;
                    long heldOut = 0;
                    if (evaluationFile == null) {
                        EvaluationSets.Split split = EvaluationSets.split(datasetFile, temporary);
                        calibrationFile = split.calibration();
                        evaluationFile = split.heldOut();
                        heldOut = split.heldOutSamples();
                        heldOutReport(split, evaluationSource, warnings);
                    }
                    QuantizeOptions calibrateWith = auto ? options.withMethod(CalibrationMethod.PERCENTILE) : options;
                    Calibrator.Result result = calibrate(context, model, modelRef, plan, calibrationFile, calibrateWith,
                            auto ? AUTO : options.method().wireName(), heldOut);
                    calibration.put("samples", result.samples());
                    calibration.put("seconds", round(result.seconds()));
                    if (auto) {
                        // one calibration: its histograms give every method's ranges
                        for (CalibrationMethod m : CalibrationMethod.values()) {
                            tables.put(m.wireName(), result.tableFor(options.withMethod(m)));
                        }
                    } else {
                        tables.put(options.method().wireName(), result.table());
                    }
                }
            } else {
                tables.put(null, null);
            }
            if (evaluationFile == null && with.get("dataset") != null) {
                // no calibration read it (dynamic mode, or a reused table): all of it is unseen
                evaluationFile = fetchDataset(context, with, "dataset", "evaluation_dataset", temporary);
                evaluationSource.put("source", "with.dataset");
            }
            String notEvaluated = evaluationFile != null ? null
                    : "no evaluation data: give with.evaluation: {dataset: ...} (or with.dataset) to check the model"
                            + " against its floor";
            if (notEvaluated != null) {
                warnings.add("not evaluated: " + notEvaluated + "; the model is published unchecked");
            }

            List<Candidate> candidates = new ArrayList<>();
            for (Map.Entry<String, CalibrationTable> t : tables.entrySet()) {
                context.heartbeat(new Heartbeat("rewrite", 0, 0, null, null));
                QuantizeOptions candidateOptions = t.getKey() == null ? options
                        : options.withMethod(CalibrationMethod.parse(t.getKey()));
                Candidate c = quantize(modelFile, candidateOptions, t.getKey(), t.getValue(), temporary);
                if (evaluationFile != null) {
                    c.figures = compare(context, c.file, modelFile, evaluationFile, evaluationSpec, c.label());
                }
                candidates.add(c);
            }
            Candidate chosen = auto ? MethodChoice.best(candidates) : candidates.get(0);

            List<QuantizeFloor.Rule> rules = notEvaluated == null ? floor.check(chosen.figures.gated()) : List.of();
            if (floor.disabled()) {
                warnings.add("the floor is off (with.floor: none): the model is published whatever its figures");
            } else if (rules.stream().anyMatch(r -> !r.passed())) {
                throw new BelowFloorException(belowFloor(floor, rules, chosen, candidates, evaluationSource));
            }

            Map<String, Object> report = report(options, modelRef, chosen.size, chosen.summary, calibration);
            if (!unfolded.isEmpty()) {
                report.put("shared_weights_unfolded", unfolded);
            }
            if (chosen.table != null) {
                calibration.put("method", chosen.table.method());
                if (chosen.table.percentile() != null) {
                    calibration.put("percentile", chosen.table.percentile());
                }
                calibration.put("tensors", chosen.table.tensors().size());
            }
            if (evaluationFile != null) {
                Map<String, Object> evaluated = new LinkedHashMap<>(evaluationSource);
                evaluated.putAll(chosen.figures.toJson());
                report.put("evaluation", evaluated);
            } else {
                report.put("evaluation", null);
                report.put("evaluation_absent_reason", notEvaluated);
            }
            report.put("floor", floor.toJson(rules, notEvaluated));
            if (evaluationFile != null) {
                Latencies latencies = latency(context, modelFile, candidates, evaluationFile, temporary);
                latencies.report(report, chosen, modelRef.size(), warnings);
            }
            if (auto) {
                report.put("method_auto", MethodChoice.toJson(candidates, chosen));
            }
            report.put("warnings", warnings);

            Map<String, Object> outputs = new LinkedHashMap<>();
            ArtifactRef out = artifacts.publish(context, chosen.file, ArtifactIO.ONNX_MEDIA_TYPE, "model");
            outputs.put("model", artifacts.asOutput(out));
            if (chosen.table != null) {
                ArtifactRef saved = tableRef != null ? tableRef
                        : artifacts.publishJson(context, chosen.table, "calibration_table");
                outputs.put("calibration_table", artifacts.asOutput(saved));
            }
            outputs.put("report", report);
            if (!warnings.isEmpty()) {
                outputs.put("warnings", warnings); // shown on the run page (a slower INT8 model, no evaluation)
            }
            // the same report as an artifact, so a gate task can read it (with.report)
            outputs.put("report_artifact", artifacts.asOutput(artifacts.publishJson(context, report, "report")));
            return outputs;
        } catch (InvalidModelException | DatasetFormatException | IllegalArgumentException e) {
            throw new InvalidTaskInputException("quantize: " + e.getMessage(), e);
        } finally {
            for (Path p : temporary) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A quantised model that may be published: the ranges it used, its file and (when evaluated) its figures. */
    static final class Candidate {
        final String method;
        final CalibrationTable table;
        final Path file;
        final long size;
        final ModelQuantizer.Summary summary;
        Figures figures;
        ModelEvaluator.Latency latency;

        Candidate(String method, CalibrationTable table, Path file, long size, ModelQuantizer.Summary summary) {
            this.method = method;
            this.table = table;
            this.file = file;
            this.size = size;
            this.summary = summary;
        }

        String label() {
            return method == null ? "dynamic" : method;
        }
    }

    /** Rewrites a fresh copy of the float model with {@code table}'s ranges (null: dynamic) and checks it loads. */
    private Candidate quantize(Path modelFile, QuantizeOptions options, String method, CalibrationTable table,
            List<Path> temporary) throws IOException, OrtException {
        OnnxModel model = OnnxModel.read(modelFile);
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        ModelQuantizer.Summary summary = table != null
                ? ModelQuantizer.applyStatic(model, plan, table, options)
                : ModelQuantizer.applyDynamic(model, plan, options);
        Path quantized = Files.createTempFile("anvil-quantized-", ".onnx");
        temporary.add(quantized);
        model.write(quantized);
        verifyLoads(quantized);
        return new Candidate(method, table, quantized, Files.size(quantized), summary);
    }

    private Path fetchDataset(TaskContext context, Map<String, Object> spec, String key, String role,
            List<Path> temporary) throws IOException {
        ArtifactRef ref = artifacts.resolve(name(), spec, key);
        artifacts.used(context, ref, role);
        Path file = artifacts.fetch(ref, ".zip");
        temporary.add(file);
        return file;
    }

    private static void heldOutReport(EvaluationSets.Split split, Map<String, Object> source, List<String> warnings) {
        if (split.tooSmall()) {
            source.put("source", "calibration set (too small to hold samples out)");
            warnings.add("the calibration set has " + split.total() + " samples, too few to hold "
                    + EvaluationSets.MIN_HELD_OUT + " out; the model was calibrated and evaluated on the same samples,"
                    + " which flatters it: give with.evaluation: {dataset: ...} or at least "
                    + 5 * EvaluationSets.MIN_HELD_OUT + " calibration samples");
        } else {
            source.put("source", "held out of the calibration set");
            source.put("held_out", split.heldOutSamples());
            source.put("of", split.total());
            source.put("how", "samples shuffled with seed " + EvaluationSets.SEED + ", the last "
                    + split.heldOutSamples() + " held out (a fifth, at most " + EvaluationSets.MAX_HELD_OUT
                    + ") and never calibrated on");
        }
    }

    private static String belowFloor(QuantizeFloor floor, List<QuantizeFloor.Rule> rules, Candidate chosen,
            List<Candidate> candidates, Map<String, Object> source) {
        String failed = rules.stream().filter(r -> !r.passed()).map(QuantizeFloor.Rule::describe)
                .collect(java.util.stream.Collectors.joining("; "));
        StringBuilder m = new StringBuilder("quantize: the quantised model is below its floor and was not published: ")
                .append(failed).append(" (floor: ").append(floor.source().equals("default")
                        ? "the default, " + QuantizeFloor.DEFAULT_MINIMUM : floor.source()).append("; ")
                .append(chosen.figures.samples()).append(" samples, ").append(source.get("source")).append(")");
        if (candidates.size() > 1) {
            m.append("; method auto kept ").append(chosen.label()).append(", the best of ")
                    .append(MethodChoice.summary(candidates));
        } else if (chosen.method != null) {
            m.append("; method ").append(chosen.label());
        }
        m.append(". Try method: auto or another method, exclude_nodes / exclude_op_types for sensitive layers,"
                + " or state another floor (with.floor: {top1_agreement: 0.95}) or floor: none to publish anyway");
        return m.toString();
    }

    /** A quantised model below its floor: not retried, as the same inputs give the same model. */
    public static final class BelowFloorException extends InvalidTaskInputException {
        public BelowFloorException(String message) {
            super(message);
        }
    }

    private Calibrator.Result calibrate(TaskContext context, OnnxModel model, ArtifactRef modelRef,
            QuantizationPlan plan, Path datasetFile, QuantizeOptions options, String method, long heldOut)
            throws IOException, OrtException {
        // what the ONNX rewrite needs and what a TFLite INT8 compile of this model reads: one table serves both
        Set<String> tensors = ModelQuantizer.calibrationTensors(model, plan);
        String key = modelRef.sha256() + "/" + method + "/" + options.calibrationSamples() + "/"
                + options.batchSize() + "/" + tensors.hashCode() + "/held-out-" + heldOut;
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
            return new Calibrator(env).calibrate(model, modelRef.sha256(), tensors,
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

    /**
     * {@code with.evaluation}, checked before any work: {@code {dataset?, pooling: none|mean, samples}}.
     * Without a dataset the settings apply to the held-out slice.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> evaluationSpec(Map<String, Object> with) {
        Object value = with.get("evaluation");
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> spec)) {
            throw new InvalidTaskInputException("quantize: with.evaluation must be a map such as {dataset: <sha256>,"
                    + " pooling: mean}; got " + value);
        }
        Object pooling = spec.get("pooling");
        if (pooling != null && !List.of("none", "mean").contains(String.valueOf(pooling))) {
            throw new InvalidTaskInputException("quantize: evaluation.pooling must be none or mean, got " + pooling);
        }
        if (spec.get("samples") != null && !(spec.get("samples") instanceof Number)) {
            throw new InvalidTaskInputException("quantize: evaluation.samples must be a number, got " + spec.get("samples"));
        }
        return (Map<String, Object>) spec;
    }

    /**
     * The candidate against the float model on the evaluation set. Every use of {@link ModelComparator} is
     * here, so a change to its API is adapted in one place.
     */
    private Figures compare(TaskContext context, Path candidate, Path reference, Path dataset,
            Map<String, Object> spec, String label) throws IOException, OrtException {
        ModelComparator.Pooling pooling = "mean".equals(String.valueOf(spec.get("pooling")))
                ? ModelComparator.Pooling.MEAN : ModelComparator.Pooling.NONE;
        long limit = spec.get("samples") instanceof Number n ? n.longValue() : 0;
        long started = System.nanoTime();
        ModelComparator.Comparison c;
        try {
            c = new ModelComparator(env).compare(candidate, reference, dataset, pooling, EVALUATION_BATCH, limit,
                    (done, total) -> context.heartbeat(new Heartbeat("evaluation " + label, done, total, null, null)));
        } catch (OrtException e) {
            throw modelError(e, "ONNX Runtime cannot evaluate the model");
        }
        return new Figures(c.samples(), c.candidateAccuracy(), c.referenceAccuracy(),
                c.accuracyDropPoints().orElse(null), c.top1Agreement(), c.meanCosine(), c.minCosine(),
                (System.nanoTime() - started) / 1e9);
    }

    /**
     * FP32 and every candidate timed by {@link ModelEvaluator} on the evaluation samples (repeated when
     * there are fewer than {@value #LATENCY_MIN_BATCHES} batches, so warm-up and a median fit), one after
     * the other with the same batch size and threads.
     */
    private Latencies latency(TaskContext context, Path fp32, List<Candidate> candidates, Path evaluation,
            List<Path> temporary) throws IOException, OrtException {
        Path timed = EvaluationSets.tiled(evaluation, (long) LATENCY_MIN_BATCHES * EVALUATION_BATCH, temporary);
        ModelEvaluator.Options options = new ModelEvaluator.Options(EVALUATION_BATCH, LATENCY_THREADS, 1,
                (long) LATENCY_MAX_BATCHES * EVALUATION_BATCH, LATENCY_WARMUP_BATCHES,
                LATENCY_MIN_BATCHES - LATENCY_WARMUP_BATCHES); // the tiled set already has enough full batches
        ModelEvaluator evaluator = new ModelEvaluator(env);
        try {
            context.heartbeat(new Heartbeat("latency fp32", 0, 0, null, null));
            ModelEvaluator.Latency reference = evaluator.evaluate(fp32, timed, options).latency();
            for (Candidate c : candidates) {
                context.heartbeat(new Heartbeat("latency " + c.label(), 0, 0, null, null));
                c.latency = evaluator.evaluate(c.file, timed, options).latency();
            }
            return new Latencies(reference, EVALUATION_BATCH, LATENCY_THREADS);
        } catch (OrtException e) {
            throw modelError(e, "ONNX Runtime cannot time the model");
        }
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
                case "static" -> QuantizeOptions.staticDefaults(method(string(with, "method", "minmax")));
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

    /** A calibration method; {@code auto} calibrates once with histograms (percentile's statistics). */
    private static CalibrationMethod method(String name) {
        if (AUTO.equals(name)) {
            return CalibrationMethod.PERCENTILE;
        }
        try {
            return CalibrationMethod.parse(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + ", or auto (tries all three and keeps the best on"
                    + " the evaluation)", e);
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
