package dev.anvil.activities.train;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.modelkit.train.Metrics;
import dev.anvil.modelkit.train.SoftLabels;
import dev.anvil.modelkit.train.TabularDatasets;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code label}: runs a teacher ONNX model over a tabular dataset and publishes what a student learns from:
 * {@code dataset}, the same features with the teacher's hard labels ({@code labels.npy}, its top class; any labels
 * the dataset had are replaced, and the teacher's accuracy on them reported), and {@code soft_labels}, a dataset
 * whose one input {@value #SOFT_INPUT} holds the teacher's probabilities at {@code with.temperature}, row for row.
 * Train a student with {@code train: {dataset: <dataset>, soft_labels: <soft_labels>}}. Deterministic.
 */
public final class LabelOperator implements Operator {
    static final String SOFT_INPUT = "probabilities";
    static final Set<String> KEYS = Set.of("model", "dataset", "temperature", "input");
    private final ArtifactIO artifacts;
    private final OrtEnvironment env;

    public LabelOperator(ArtifactIO artifacts, OrtEnvironment env) {
        this.artifacts = artifacts;
        this.env = env;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.LABEL;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        Set<String> unknown = new TreeSet<>(with.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new InvalidTaskInputException("label does not take with." + String.join(", with.", unknown)
                    + "; it takes " + new TreeSet<>(KEYS));
        }
        Object t = with.getOrDefault("temperature", 1.0);
        if (!(t instanceof Number given) || !(given.doubleValue() > 0)) {
            throw new InvalidTaskInputException("label: with.temperature must be a number above 0 (1 keeps the"
                    + " teacher's probabilities, 2 to 5 soften them), got " + t);
        }
        double temperature = ((Number) t).doubleValue();
        Object input = with.get("input");
        if (input != null && !(input instanceof String)) {
            throw new InvalidTaskInputException("label: with.input must be a dataset input name, got " + input);
        }
        List<Path> temporary = new ArrayList<>();
        try {
            ArtifactRef modelRef = artifacts.resolve(name(), with, "model");
            artifacts.used(context, modelRef, "teacher");
            ArtifactRef dataRef = artifacts.resolve(name(), with, "dataset");
            artifacts.used(context, dataRef, "dataset");
            Path modelFile = artifacts.fetch(modelRef, ".onnx");
            temporary.add(modelFile);
            Path dataFile = artifacts.fetch(dataRef, ".zip");
            temporary.add(dataFile);
            Dataset dataset;
            try (DatasetReader reader = DatasetReader.open(dataFile)) {
                dataset = reader.readAll();
            }
            String inputName = TabularDatasets.featureInput(dataset, (String) input, null, "with.dataset");
            float[][] rows = TabularDatasets.read(dataset.labels().isPresent() ? dataset
                    : new Dataset(dataset.inputs(), java.util.Optional.of(NpyArray.ofInt64(
                            new long[] {dataset.sampleCount()}, new long[(int) dataset.sampleCount()]))),
                    inputName, null, dev.anvil.modelkit.train.TrainTask.CLASSIFICATION, null, "with.dataset").features();
            context.heartbeat("teacher");
            float[][] scores;
            try {
                scores = SoftLabels.teacherScores(env, modelFile, inputName, rows);
            } catch (OrtException e) {
                if (OrtErrors.isModelError(e)) {
                    throw new InvalidTaskInputException("label: ONNX Runtime cannot run the teacher on with.dataset: "
                            + e.getMessage(), e);
                }
                throw e;
            }
            SoftLabels.Labels labels = SoftLabels.of(scores, temperature);
            int n = rows.length;
            int k = labels.probabilities()[0].length;
            long[] hard = new long[n];
            float[] soft = new float[n * k];
            for (int i = 0; i < n; i++) {
                hard[i] = labels.hard()[i];
                System.arraycopy(labels.probabilities()[i], 0, soft, i * k, k);
            }
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("samples", n);
            report.put("classes", k);
            report.put("temperature", temperature);
            report.put("teacher_output", labels.fromProbabilities() ? "probabilities" : "logits");
            report.put("mean_confidence", Metrics.round(labels.meanConfidence()));
            if (dataset.labels().isPresent()) {
                long[] truth = dataset.labels().get().toLongArray();
                int[] t2 = new int[n];
                for (int i = 0; i < n; i++) {
                    t2[i] = (int) truth[i];
                }
                report.put("teacher_accuracy", Metrics.round(Metrics.accuracy(t2, labels.hard())));
                report.put("note", "the dataset's own labels were replaced by the teacher's top class");
            }
            Path labelled = Files.createTempFile("anvil-labelled-", ".zip");
            temporary.add(labelled);
            DatasetWriter.write(labelled, new Dataset(Map.of(inputName, dataset.inputs().get(inputName)),
                    java.util.Optional.of(NpyArray.ofInt64(new long[] {n}, hard))));
            Path softFile = Files.createTempFile("anvil-soft-", ".zip");
            temporary.add(softFile);
            DatasetWriter.write(softFile, new Dataset(Map.of(SOFT_INPUT, NpyArray.ofFloat32(new long[] {n, k}, soft)),
                    java.util.Optional.of(NpyArray.ofInt64(new long[] {n}, hard))));
            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("dataset", artifacts.asOutput(
                    artifacts.publish(context, labelled, ArtifactIO.DATASET_MEDIA_TYPE, "dataset")));
            outputs.put("soft_labels", artifacts.asOutput(
                    artifacts.publish(context, softFile, ArtifactIO.DATASET_MEDIA_TYPE, "soft_labels")));
            outputs.put("report", report);
            return outputs;
        } catch (DatasetFormatException | InvalidModelException | IllegalArgumentException e) {
            throw new InvalidTaskInputException("label: " + e.getMessage(), e);
        } finally {
            for (Path p : temporary) {
                Files.deleteIfExists(p);
            }
        }
    }
}
