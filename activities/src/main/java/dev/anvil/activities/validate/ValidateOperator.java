package dev.anvil.activities.validate;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.ModelVersion;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.evaluate.MetricOverrides;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.modelkit.validate.FiniteFigures;
import dev.anvil.modelkit.validate.ModelEvaluator;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code validate}: measures a candidate model, ONNX or .tflite, on a dataset ({@link ModelEvaluator}) and against
 * reference models: {@code reference} (any artifact, reported as {@code input}, e.g. the float
 * original) and the version of {@code registry_model} that holds {@code registry_alias} (default
 * {@code production}). Publishes a JSON report ({@code anvil.validation/v1}), records the inputs as
 * used, and returns the headline figures as outputs (the task run's metrics).
 */
public final class ValidateOperator implements Operator {
    public static final String REPORT_FORMAT = "anvil.validation/v1";

    private final ArtifactIO io;
    private final ModelRegistryStore registry;
    private final ModelEvaluator evaluator;
    private final ModelComparator comparator;

    public ValidateOperator(ArtifactIO io, ModelRegistryStore registry, OrtEnvironment env) {
        this.io = io;
        this.registry = registry;
        this.evaluator = new ModelEvaluator(env);
        this.comparator = new ModelComparator(env);
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.VALIDATE;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        ModelEvaluator.Options options = options(with);
        MetricOverrides metrics = metrics(with);
        ArtifactRef candidate = io.resolve(name(), with, "model");
        ArtifactRef dataset = io.resolve(name(), with, "dataset");
        Map<String, ArtifactRef> references = new LinkedHashMap<>();
        Map<String, Object> notes = new LinkedHashMap<>();
        if (with.get("reference") != null) {
            references.put("input", io.resolve(name(), with, "reference"));
        }
        if (with.get("registry_model") instanceof String registered) {
            String alias = with.get("registry_alias") instanceof String a ? a : "production";
            Optional<ModelVersion> holder = registry.resolveAlias(registered, alias);
            if (holder.isPresent()) {
                references.put(alias, io.resolve(name(), Map.of("m", holder.get().artifactSha256()), "m"));
            } else {
                notes.put(alias, "no version of model '" + registered + "' holds the alias '" + alias
                        + "' (first deployment): nothing to compare with");
            }
        }
        io.used(context, candidate, "model");
        io.used(context, dataset, "dataset");
        references.forEach((role, ref) -> io.used(context, ref, "reference:" + role));

        List<Path> files = new ArrayList<>();
        try {
            Path candidateFile = track(files, io.fetch(candidate, ".onnx"));
            Path datasetFile = track(files, io.fetch(dataset, ".zip"));
            context.heartbeat(Map.of("phase", "candidate"));
            ModelEvaluator.Evaluation measured = evaluator.evaluate(candidateFile, datasetFile, options);

            Map<String, Object> report = new LinkedHashMap<>();
            report.put("format", REPORT_FORMAT);
            report.put("model", io.asOutput(candidate));
            report.put("dataset", io.asOutput(dataset));
            report.put("candidate", ModelEvaluator.toJson(measured));
            Map<String, Object> refs = new LinkedHashMap<>();
            for (Map.Entry<String, ArtifactRef> ref : references.entrySet()) {
                context.heartbeat(Map.of("phase", "reference " + ref.getKey()));
                Path refFile = track(files, io.fetch(ref.getValue(), ".onnx"));
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("model", io.asOutput(ref.getValue()));
                entry.putAll(ModelEvaluator.toJson(evaluator.evaluate(refFile, datasetFile, options)));
                ModelComparator.Comparison cmp = comparator.compare(candidateFile, refFile, datasetFile,
                        ModelComparator.Pooling.NONE, metrics, options.batchSize(), options.samples(), (done, total) -> { });
                entry.putAll(cmp.toJson());
                refs.put(ref.getKey(), entry);
            }
            notes.forEach((alias, note) -> refs.put(alias, Map.of("missing", true, "note", note)));
            report.put("references", refs);

            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("report", io.asOutput(io.publishJson(context, FiniteFigures.of(report), "report")));
            outputs.put("accuracy", measured.accuracy());
            if (measured.accuracy() == null && measured.accuracyAbsentReason() != null) {
                outputs.put("accuracy_absent_reason", measured.accuracyAbsentReason());
            }
            outputs.put("p95_latency_ms", measured.latency().p95Ms());
            if (measured.latency().absentReason() != null) {
                outputs.put("latency_absent_reason", measured.latency().absentReason());
            }
            outputs.put("throughput_per_s", measured.throughputPerSecond());
            outputs.put("size_bytes", measured.sizeBytes());
            return FiniteFigures.of(outputs);
        } catch (InvalidModelException | DatasetFormatException | IllegalArgumentException e) {
            throw new InvalidTaskInputException("validate: " + e.getMessage(), e);
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidTaskInputException("validate: ONNX Runtime cannot run the model: " + e.getMessage(), e);
            }
            throw e;
        } finally {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    private static Path track(List<Path> files, Path file) {
        files.add(file);
        return file;
    }

    /** {@code with.metrics}: per output, the comparison metrics and IoU/Dice threshold instead of the defaults. */
    static MetricOverrides metrics(Map<String, Object> with) {
        Object spec = with.get("metrics");
        if (spec != null && with.get("reference") == null && with.get("registry_model") == null) {
            throw new InvalidTaskInputException("validate: with.metrics chooses how outputs are compared with a reference, "
                    + "but there is none; give with.reference or with.registry_model, or drop with.metrics");
        }
        try {
            return MetricOverrides.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskInputException("validate: " + e.getMessage(), e);
        }
    }

    static ModelEvaluator.Options options(Map<String, Object> with) {
        try {
            return new ModelEvaluator.Options(intOf(with, "batch_size", 32), intOf(with, "threads", 1),
                    intOf(with, "top_k", 5), intOf(with, "samples", 0), intOf(with, "warmup_batches", 2),
                    intOf(with, "min_timed_batches", ModelEvaluator.Options.MIN_TIMED_BATCHES));
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskInputException("validate: " + e.getMessage());
        }
    }

    private static int intOf(Map<String, Object> with, String key, int fallback) {
        Object v = with.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.intValue();
        }
        throw new InvalidTaskInputException("validate: with." + key + " must be a number, got '" + v + "'");
    }
}
