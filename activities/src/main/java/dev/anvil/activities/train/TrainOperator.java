package dev.anvil.activities.train;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.train.TabularDatasets;
import dev.anvil.modelkit.train.TabularTrainer;
import dev.anvil.modelkit.train.TrainTask;
import dev.anvil.modelkit.train.TrainerSpec;
import dev.anvil.modelkit.train.TrainingData;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code train}: trains a Tribuo model ({@code with.trainer}, {@code with.params}) on a tabular dataset artifact
 * and publishes it as ONNX, its input named as the dataset's so {@code validate} can run it on the same data.
 * Validation figures come from {@code with.validation} (a dataset) or a seeded {@code validation_fraction} of the
 * training set. {@code with.soft_labels} (the {@code label} operator's output) makes the trainer learn a teacher's
 * probabilities where it can. Everything is seeded, so the same inputs give the same model bytes and the step
 * cache applies. Bad input (no labels, columns that disagree with {@code with.features}, a non-tabular input, an
 * unknown trainer or parameter) fails before anything is published.
 */
public final class TrainOperator implements Operator {
    static final Set<String> KEYS = Set.of("dataset", "validation", "validation_fraction", "soft_labels", "task",
            "trainer", "params", "features", "input", "target", "seed", "standardize");
    static final double DEFAULT_VALIDATION_FRACTION = 0.2;
    static final long DEFAULT_SEED = 42;
    private final ArtifactIO artifacts;
    private final OrtEnvironment env;

    public TrainOperator(ArtifactIO artifacts, OrtEnvironment env) {
        this.artifacts = artifacts;
        this.env = env;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.TRAIN;
    }

    /** What a heartbeat carries: the phase and, while SGD trains, the epoch and its average loss. */
    public record Heartbeat(String phase, int epoch, int epochs, Double loss) {}

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        Set<String> unknown = new TreeSet<>(with.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new InvalidTaskInputException("train does not take with." + String.join(", with.", unknown)
                    + "; it takes " + new TreeSet<>(KEYS));
        }
        TrainTask task;
        TrainerSpec spec;
        try {
            task = TrainTask.parse(string(with, "task"));
            spec = TrainerSpec.parse(string(with, "trainer"), task, map(with, "params"));
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskInputException("train: " + e.getMessage(), e);
        }
        long seed = with.get("seed") == null ? DEFAULT_SEED : integer(with, "seed");
        Integer features = with.get("features") == null ? null : (int) integer(with, "features");
        boolean standardize = !Boolean.FALSE.equals(with.get("standardize"));
        if (with.get("standardize") != null && !(with.get("standardize") instanceof Boolean)) {
            throw new InvalidTaskInputException("train: with.standardize must be true or false, got " + with.get("standardize"));
        }
        if (with.get("validation") != null && with.get("validation_fraction") != null) {
            throw new InvalidTaskInputException("train: give with.validation (a dataset) or with.validation_fraction"
                    + " (a share of the training set held out), not both");
        }
        double fraction = with.get("validation_fraction") == null ? DEFAULT_VALIDATION_FRACTION
                : number(with, "validation_fraction");
        if (fraction < 0 || fraction >= 1) {
            throw new InvalidTaskInputException("train: with.validation_fraction must be 0 (no validation) or more and"
                    + " below 1, got " + fraction);
        }
        if (task == TrainTask.REGRESSION && with.get("soft_labels") != null) {
            throw new InvalidTaskInputException("train: with.soft_labels are a teacher's class probabilities; they apply"
                    + " to task: classification only");
        }
        String input = string(with, "input");
        String target = string(with, "target");
        if (target != null && task != TrainTask.REGRESSION) {
            throw new InvalidTaskInputException("train: with.target names a regression target input; classification"
                    + " learns labels.npy");
        }
        List<Path> temporary = new ArrayList<>();
        try {
            context.heartbeat(new Heartbeat("read", 0, 0, null));
            Dataset trainSet = dataset(context, with, "dataset", "dataset", temporary);
            String inputName = TabularDatasets.featureInput(trainSet, input, target, "with.dataset");
            TrainingData data = TabularDatasets.read(trainSet, input, features, task, target, "with.dataset");
            if (with.get("soft_labels") != null) {
                data = TabularDatasets.withSoftLabels(data,
                        dataset(context, with, "soft_labels", "soft_labels", temporary), "with.soft_labels");
            }
            Optional<TrainingData> validation = Optional.empty();
            String validationSource;
            if (with.get("validation") != null) {
                Dataset v = dataset(context, with, "validation", "validation_dataset", temporary);
                validation = Optional.of(TabularDatasets.read(v, inputName, data.featureCount(), task, target,
                        "with.validation"));
                validationSource = "with.validation";
            } else if (fraction > 0) {
                List<TrainingData> parts = TabularDatasets.split(data, fraction, seed);
                data = parts.get(0);
                validation = Optional.of(parts.get(1));
                validationSource = "validation_fraction " + fraction + " of with.dataset (seed " + seed + ")";
            } else {
                validationSource = null;
            }
            TabularTrainer.Result result = new TabularTrainer(env).train(data, validation,
                    new TabularTrainer.Options(spec, seed, inputName, standardize),
                    (phase, epoch, epochs, loss) -> context.heartbeat(
                            new Heartbeat(phase, epoch, epochs, Double.isNaN(loss) ? null : loss)));

            Path modelFile = Files.createTempFile("anvil-trained-", ".onnx");
            temporary.add(modelFile);
            Files.write(modelFile, result.onnx());
            Map<String, Object> report = report(task, spec, seed, standardize, inputName, data, result, validationSource,
                    Files.size(modelFile));
            Map<String, Object> outputs = new LinkedHashMap<>();
            ArtifactRef model = artifacts.publish(context, modelFile, ArtifactIO.ONNX_MEDIA_TYPE, "model");
            outputs.put("model", artifacts.asOutput(model));
            outputs.put("report", report);
            outputs.put("metrics", metrics(result));
            if (!result.lossCurve().isEmpty()) {
                outputs.put("loss_curve", result.lossCurve());
            }
            if (!result.notes().isEmpty()) {
                outputs.put("warnings", result.notes());
            }
            outputs.put("report_artifact", artifacts.asOutput(artifacts.publishJson(context, report, "report")));
            return outputs;
        } catch (DatasetFormatException | IllegalArgumentException e) {
            throw new InvalidTaskInputException("train: " + e.getMessage(), e);
        } finally {
            for (Path p : temporary) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Dataset dataset(TaskContext context, Map<String, Object> with, String key, String role, List<Path> temporary)
            throws IOException {
        ArtifactRef ref = artifacts.resolve(name(), with, key);
        artifacts.used(context, ref, role);
        Path file = artifacts.fetch(ref, ".zip");
        temporary.add(file);
        try (DatasetReader reader = DatasetReader.open(file)) {
            return reader.readAll();
        } catch (DatasetFormatException e) {
            throw new InvalidTaskInputException("train: with." + key + " is not a dataset: " + e.getMessage(), e);
        }
    }

    /** The figures a gate or the run page reads, flat: {@code train.accuracy}, {@code validation.macro_f1}, ... */
    static Map<String, Object> metrics(TabularTrainer.Result result) {
        Map<String, Object> metrics = new LinkedHashMap<>();
        result.train().forEach((k, v) -> metrics.put("train." + k, v));
        result.validation().ifPresent(v -> v.forEach((k, x) -> metrics.put("validation." + k, x)));
        if (!result.lossCurve().isEmpty()) {
            metrics.put("final_loss", dev.anvil.modelkit.train.Metrics.round(
                    result.lossCurve().get(result.lossCurve().size() - 1)));
        }
        metrics.put("train_seconds", Math.round(result.seconds() * 1000) / 1000.0);
        return metrics;
    }

    private static Map<String, Object> report(TrainTask task, TrainerSpec spec, long seed, boolean standardize,
            String input, TrainingData data, TabularTrainer.Result result, String validationSource, long size) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("task", task.wireName());
        report.put("trainer", spec.name());
        report.put("params", spec.params());
        report.put("seed", seed);
        report.put("standardize", standardize);
        report.put("input", input);
        report.put("features", data.featureCount());
        report.put("training_samples", data.samples());
        if (task == TrainTask.CLASSIFICATION) {
            report.put("classes", result.classes());
            report.put("soft_labels_used", result.softLabelsUsed());
        }
        report.put("train", result.train());
        report.put("validation", result.validation().orElse(null));
        report.put("validation_source", validationSource);
        report.put("loss_curve", result.lossCurve());
        report.put("model_bytes", size);
        report.put("notes", result.notes());
        return report;
    }

    private static String string(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new InvalidTaskInputException("train: with." + key + " must be a string, got " + v);
        }
        return s;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> map(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?>)) {
            throw new InvalidTaskInputException("train: with." + key + " must be a map of hyper-parameters, got " + v);
        }
        return (Map<String, ?>) v;
    }

    private static long integer(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < 0) {
            throw new InvalidTaskInputException("train: with." + key + " must be a whole number, 0 or more, got " + v);
        }
        return n.longValue();
    }

    private static double number(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (!(v instanceof Number n)) {
            throw new InvalidTaskInputException("train: with." + key + " must be a number, got " + v);
        }
        return n.doubleValue();
    }
}
