package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.workflows.ArtifactRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the compression operators share: fetch the model, rewrite it with a toolkit engine, check that ONNX
 * Runtime loads the result, measure it against the input model when {@code with.evaluation} names a dataset,
 * and publish it only when it meets {@code with.floor}. A result below the floor fails the task (not retried:
 * the same input gives the same model) and nothing is published.
 */
abstract class CompressionOperator implements Operator {
    /** What a heartbeat carries: the phase and its progress. */
    public record Heartbeat(String phase, long done, long total) {}

    private final ArtifactIO artifacts;
    private final OrtEnvironment env;

    CompressionOperator(ArtifactIO artifacts, OrtEnvironment env) {
        this.artifacts = artifacts;
        this.env = env;
    }

    /** Checks the options in {@code with} (before any download) and returns the engine's rewrite. */
    abstract Rewrite plan(Map<String, Object> with);

    /** A checked rewrite, ready to run on the model; returns the report's operator-specific part. */
    interface Rewrite {
        Map<String, Object> apply(OnnxModel model, TaskContext context) throws IOException, OrtException;
    }

    OrtEnvironment env() {
        return env;
    }

    /**
     * The dataset artifact {@code spec.dataset} names, fetched to a temporary file that the caller deletes, and
     * recorded as used under {@code role}.
     */
    Path dataset(TaskContext context, Map<String, Object> spec, String role) throws IOException {
        ArtifactRef ref = artifacts.resolve(name(), spec, "dataset");
        artifacts.used(context, ref, role);
        return artifacts.fetch(ref, ".zip");
    }

    /**
     * A second model the rewrite reads (the pruned model whose mask, or the clustered model whose codebook, is
     * imposed again), recorded as used under {@code key}.
     */
    OnnxModel reference(TaskContext context, Map<String, Object> with, String key) throws IOException {
        ArtifactRef ref = artifacts.resolve(name(), with, key);
        artifacts.used(context, ref, key);
        Path file = artifacts.fetch(ref, ".onnx");
        try {
            return OnnxModel.read(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Override
    public final Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        List<Path> temporary = new ArrayList<>();
        try {
            Rewrite rewrite = plan(with);
            Floor floor = Floor.parse(with.get("floor"));
            if (!floor.isEmpty() && !(with.get("evaluation") instanceof Map<?, ?>)) {
                throw new IllegalArgumentException("floor needs with.evaluation.dataset to measure the result on");
            }
            ArtifactRef modelRef = artifacts.resolve(name(), with, "model");
            artifacts.used(context, modelRef, "model");
            Path modelFile = artifacts.fetch(modelRef, ".onnx");
            temporary.add(modelFile);
            OnnxModel model = OnnxModel.read(modelFile);
            context.heartbeat(new Heartbeat("rewrite", 0, 0));
            Map<String, Object> details = rewrite.apply(model, context);
            Path result = Files.createTempFile("anvil-" + name() + "-", ".onnx");
            temporary.add(result);
            model.write(result);
            verifyLoads(result);
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("size_before", modelRef.size());
            report.put("size_after", Files.size(result));
            report.put("size_ratio", With.round((double) Files.size(result) / modelRef.size()));
            report.putAll(details);
            if (with.get("evaluation") instanceof Map<?, ?> evaluation) {
                @SuppressWarnings("unchecked")
                Map<String, Object> spec = (Map<String, Object>) evaluation;
                Floor.Measured measured = evaluate(context, spec, result, modelFile, temporary);
                report.put("evaluation", asReport(measured));
                List<String> broken = floor.broken(measured);
                if (!broken.isEmpty()) {
                    throw new InvalidTaskInputException(name() + ": the compressed model is below the floor, so nothing"
                            + " was published: " + String.join("; ", broken) + ". Compress less (or lower the floor).");
                }
                if (!floor.isEmpty()) {
                    report.put("floor", floor.limits());
                }
            }
            ArtifactRef out = artifacts.publish(context, result, ArtifactIO.ONNX_MEDIA_TYPE, "model");
            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("model", artifacts.asOutput(out));
            outputs.put("report", report);
            return outputs;
        } catch (InvalidModelException | DatasetFormatException | IllegalArgumentException | ClassCastException e) {
            throw new InvalidTaskInputException(name() + ": " + e.getMessage(), e);
        } finally {
            for (Path p : temporary) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Floor.Measured evaluate(TaskContext context, Map<String, Object> spec, Path candidate, Path original,
            List<Path> temporary) throws IOException, OrtException {
        ArtifactRef datasetRef = artifacts.resolve(name(), spec, "dataset");
        artifacts.used(context, datasetRef, "evaluation_dataset");
        Path datasetFile = artifacts.fetch(datasetRef, ".zip");
        temporary.add(datasetFile);
        String pooling = String.valueOf(spec.getOrDefault("pooling", "none"));
        if (!pooling.equals("none") && !pooling.equals("mean")) {
            throw new IllegalArgumentException("evaluation.pooling must be none or mean, got " + pooling);
        }
        long limit = ((Number) spec.getOrDefault("samples", 0)).longValue();
        try {
            return compare(candidate, original, datasetFile, pooling.equals("mean"), limit, context);
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidTaskInputException(name() + ": ONNX Runtime cannot evaluate the model: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** The one place that calls the comparator, reading only the figures a floor needs. */
    private Floor.Measured compare(Path candidate, Path reference, Path dataset, boolean meanPooling, long limit,
            TaskContext context) throws IOException, OrtException {
        ModelComparator.Comparison c = new ModelComparator(env).compare(candidate, reference, dataset,
                meanPooling ? ModelComparator.Pooling.MEAN : ModelComparator.Pooling.NONE, 32, limit,
                (done, total) -> context.heartbeat(new Heartbeat("evaluation", done, total)));
        return new Floor.Measured(c.samples(), c.candidateAccuracy(), c.referenceAccuracy(), c.top1Agreement(),
                c.meanCosine());
    }

    private static Map<String, Object> asReport(Floor.Measured m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", m.samples());
        if (m.accuracy() != null) {
            out.put("accuracy", With.round(m.accuracy()));
            out.put("reference_accuracy", With.round(m.referenceAccuracy()));
            out.put("accuracy_drop_points", With.round(m.dropPoints()));
        }
        if (m.top1Agreement() != null) {
            out.put("top1_agreement", With.round(m.top1Agreement()));
        }
        out.put("mean_cosine", With.round(m.meanCosine()));
        return out;
    }

    private void verifyLoads(Path model) throws IOException, OrtException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession ignored = OrtSessions.open(env, model, so)) {
            // loading proves ONNX Runtime accepts the rewritten graph
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidTaskInputException(name() + ": the compressed model does not load in ONNX Runtime ("
                        + e.getMessage() + "); skip the failing layer and retry", e);
            }
            throw e;
        }
    }
}
