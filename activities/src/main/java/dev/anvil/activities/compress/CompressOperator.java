package dev.anvil.activities.compress;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.modelkit.compress.ClusterOptions;
import dev.anvil.modelkit.compress.LowRankFactorizer;
import dev.anvil.modelkit.compress.LowRankOptions;
import dev.anvil.modelkit.compress.MagnitudePruner;
import dev.anvil.modelkit.compress.ParetoFront;
import dev.anvil.modelkit.compress.PruneOptions;
import dev.anvil.modelkit.compress.WeightClusterer;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.validate.ModelEvaluator;
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

/**
 * {@code compress}: tries every point of a small grid (sparsity × bits × rank, {@link Grid}) on the input model,
 * measures each against it on the evaluation dataset (size on disk, quality drop, latency p50), marks the Pareto
 * front ({@link ParetoFront}) and publishes only the point chosen within {@code max_drop} and
 * {@code max_size_ratio}. No point within them fails the task (not retried: the same inputs give the same
 * points), naming the nearest, with nothing published.
 */
public final class CompressOperator implements Operator {
    /** Latency is timed one sample at a time on one thread, as a single request is served. */
    static final ModelEvaluator.Options LATENCY = new ModelEvaluator.Options(1, 1, 1, 200, 20, 100);
    static final int EVALUATION_BATCH = 32;

    private final ArtifactIO artifacts;
    private final OrtEnvironment env;

    public CompressOperator(ArtifactIO artifacts, OrtEnvironment env) {
        this.artifacts = artifacts;
        this.env = env;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.COMPRESS;
    }

    /** One point tried: its file and figures. */
    private static final class Tried {
        final Grid.Point point;
        final Path file;
        final long size;
        final ModelComparator.Comparison figures;
        final ModelEvaluator.Latency latency;
        double dropPoints;

        Tried(Grid.Point point, Path file, long size, ModelComparator.Comparison figures, ModelEvaluator.Latency latency) {
            this.point = point;
            this.file = file;
            this.size = size;
            this.figures = figures;
            this.latency = latency;
        }

        ParetoFront.Costs costs() {
            return new ParetoFront.Costs(size, dropPoints, latency.p50Ms());
        }
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        List<Path> temporary = new ArrayList<>();
        try {
            Grid grid = Grid.parse(with.get("grid"));
            Double maxDrop = With.number(with, "max_drop");
            if (maxDrop == null || maxDrop < 0) {
                throw new IllegalArgumentException("needs with.max_drop, the most quality the chosen point may lose"
                        + " against the input model, in points (e.g. 1.0)");
            }
            double maxSizeRatio = With.number(with, "max_size_ratio", 1.0);
            if (maxSizeRatio <= 0) {
                throw new IllegalArgumentException("max_size_ratio must be above 0 (size after / before), got " + maxSizeRatio);
            }
            ParetoFront.Prefer prefer = ParetoFront.Prefer.parse(With.string(with, "prefer", "size"));
            String scope = With.string(with, "scope", "per_layer");
            if (!scope.equals("global") && !scope.equals("per_layer")) {
                throw new IllegalArgumentException("scope must be global or per_layer, got '" + scope + "'");
            }
            Set<String> skip = With.names(with, "skip");
            boolean pack = With.bool(with, "pack_indices", false);
            if (!(with.get("evaluation") instanceof Map<?, ?> evaluation)) {
                throw new IllegalArgumentException("needs with.evaluation: {dataset: ...}, the data every point is"
                        + " measured on against the input model");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> spec = (Map<String, Object>) evaluation;
            String pooling = With.string(spec, "pooling", "none");
            if (!pooling.equals("none") && !pooling.equals("mean")) {
                throw new IllegalArgumentException("evaluation.pooling must be none or mean, got " + pooling);
            }
            long limit = With.integer(spec, "samples", 0);

            ArtifactRef modelRef = artifacts.resolve(name(), with, "model");
            artifacts.used(context, modelRef, "model");
            Path modelFile = artifacts.fetch(modelRef, ".onnx");
            temporary.add(modelFile);
            ArtifactRef datasetRef = artifacts.resolve(name(), spec, "dataset");
            artifacts.used(context, datasetRef, "evaluation_dataset");
            Path dataset = artifacts.fetch(datasetRef, ".zip");
            temporary.add(dataset);

            ModelEvaluator evaluator = new ModelEvaluator(env);
            ModelEvaluator.Latency inputLatency = time(evaluator, modelFile, dataset);
            List<Grid.Point> points = grid.points();
            List<Tried> tried = new ArrayList<>();
            for (Grid.Point point : points) {
                context.heartbeat(new CompressionOperator.Heartbeat("point " + point.label(), tried.size(), points.size()));
                OnnxModel model = OnnxModel.read(modelFile);
                apply(model, point, scope.equals("global"), skip, pack);
                Path file = Files.createTempFile("anvil-compress-", ".onnx");
                temporary.add(file);
                model.write(file);
                verifyLoads(file);
                ModelComparator.Comparison c = compare(file, modelFile, dataset, pooling.equals("mean"), limit);
                tried.add(new Tried(point, file, Files.size(file), c, time(evaluator, file, dataset)));
            }
            String metric = qualityMetric(tried.get(0).figures);
            for (Tried t : tried) {
                t.dropPoints = dropPoints(t.figures, metric);
            }
            List<ParetoFront.Costs> costs = tried.stream().map(Tried::costs).toList();
            List<Boolean> front = ParetoFront.onFront(costs);
            Optional<Integer> chosen = ParetoFront.choose(costs, modelRef.size(), maxDrop, maxSizeRatio, prefer);
            if (chosen.isEmpty()) {
                throw new InvalidTaskInputException(nothingWithin(tried, metric, modelRef.size(), maxDrop, maxSizeRatio));
            }
            Tried best = tried.get(chosen.get());
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("size_before", modelRef.size());
            report.put("size_after", best.size);
            report.put("size_ratio", With.round((double) best.size / modelRef.size()));
            report.put("quality_metric", metric);
            report.put("constraints", Map.of("max_drop", maxDrop, "max_size_ratio", maxSizeRatio));
            report.put("prefer", prefer.name().toLowerCase());
            report.put("pack_indices", pack);
            report.put("samples", best.figures.samples());
            Map<String, Object> input = new LinkedHashMap<>();
            input.put("size", modelRef.size());
            input.put("accuracy", roundOrNull(best.figures.referenceAccuracy()));
            putLatency(input, inputLatency);
            report.put("input", input);
            report.put("latency", Map.of("batch_size", LATENCY.batchSize(), "threads", LATENCY.threads()));
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int i = 0; i < tried.size(); i++) {
                Tried t = tried.get(i);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("sparsity", t.point.sparsity());
                row.put("bits", t.point.bits());
                row.put("rank", t.point.rank());
                row.put("size", t.size);
                row.put("size_ratio", With.round((double) t.size / modelRef.size()));
                row.put("accuracy", roundOrNull(t.figures.candidateAccuracy()));
                row.put("top1_agreement", roundOrNull(t.figures.top1Agreement()));
                row.put("mean_cosine", With.round(t.figures.meanCosine()));
                row.put("drop_points", With.round(t.dropPoints));
                putLatency(row, t.latency);
                row.put("on_front", front.get(i));
                row.put("within_constraints", ParetoFront.within(costs.get(i), modelRef.size(), maxDrop, maxSizeRatio));
                row.put("chosen", i == chosen.get());
                rows.add(row);
            }
            report.put("points", rows);
            report.put("chosen", rows.get(chosen.get()));
            ArtifactRef out = artifacts.publish(context, best.file, ArtifactIO.ONNX_MEDIA_TYPE, "model");
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

    /** Low rank first (on the float weights), then pruning (of the factors too), then weight sharing of what is left. */
    private static void apply(OnnxModel model, Grid.Point p, boolean global, Set<String> skip, boolean pack) {
        if (p.rank() < 1) {
            LowRankFactorizer.factorize(model, new LowRankOptions(null, p.rank(), Map.of(), skip));
        }
        if (p.sparsity() > 0) {
            MagnitudePruner.prune(model, new PruneOptions(p.sparsity(), global, Map.of(), skip));
        }
        if (p.bits() != Grid.FLOAT_BITS) {
            WeightClusterer.cluster(model, new ClusterOptions(p.bits(), ClusterOptions.Init.LINEAR, 0, false, 50, skip,
                    false, pack));
        }
    }

    /** Top-1 accuracy where the output is class scores and the data has labels, else agreement, else cosine. */
    static String qualityMetric(ModelComparator.Comparison c) {
        if (c.candidateAccuracy() != null && c.referenceAccuracy() != null) {
            return "accuracy";
        }
        return c.top1Agreement() != null ? "top1_agreement" : "mean_cosine";
    }

    /** Points lost against the input model on the metric: accuracy points, or 100 × (1 − agreement or cosine). */
    static double dropPoints(ModelComparator.Comparison c, String metric) {
        return switch (metric) {
            case "accuracy" -> 100 * (c.referenceAccuracy() - c.candidateAccuracy());
            case "top1_agreement" -> 100 * (1 - c.top1Agreement());
            default -> 100 * (1 - c.meanCosine());
        };
    }

    private static String nothingWithin(List<Tried> tried, String metric, long inputSize, double maxDrop,
            double maxSizeRatio) {
        StringBuilder m = new StringBuilder("compress: no point of the grid has a " + metric + " drop of at most "
                + maxDrop + " points and a size ratio of at most " + maxSizeRatio + ", so nothing was published; ");
        Tried smallestWithinDrop = null;
        Tried bestWithinSize = null;
        Tried bestOverall = null;
        for (Tried t : tried) {
            if (t.dropPoints <= maxDrop && (smallestWithinDrop == null || t.size < smallestWithinDrop.size)) {
                smallestWithinDrop = t;
            }
            if (t.size <= maxSizeRatio * inputSize && (bestWithinSize == null || t.dropPoints < bestWithinSize.dropPoints)) {
                bestWithinSize = t;
            }
            if (bestOverall == null || t.dropPoints < bestOverall.dropPoints) {
                bestOverall = t;
            }
        }
        if (smallestWithinDrop != null) {
            m.append("the smallest within max_drop is ").append(describe(smallestWithinDrop, inputSize)).append("; ");
        }
        if (bestWithinSize != null) {
            m.append("the best within max_size_ratio is ").append(describe(bestWithinSize, inputSize)).append("; ");
        }
        if (smallestWithinDrop == null && bestWithinSize == null) {
            m.append("the best it got is ").append(describe(bestOverall, inputSize)).append("; ");
        }
        return m.append("loosen max_drop or max_size_ratio, or try other grid values").toString();
    }

    private static String describe(Tried t, long inputSize) {
        return String.format("%s (size ratio %.4f, drop %.4f points)", t.point.label(), (double) t.size / inputSize,
                t.dropPoints);
    }

    private ModelComparator.Comparison compare(Path candidate, Path reference, Path dataset, boolean meanPooling,
            long limit) throws IOException, OrtException {
        try {
            return new ModelComparator(env).compare(candidate, reference, dataset,
                    meanPooling ? ModelComparator.Pooling.MEAN : ModelComparator.Pooling.NONE, EVALUATION_BATCH, limit,
                    (done, total) -> { });
        } catch (OrtException e) {
            throw modelError(e, "ONNX Runtime cannot evaluate the model");
        }
    }

    private ModelEvaluator.Latency time(ModelEvaluator evaluator, Path model, Path dataset)
            throws IOException, OrtException {
        try {
            return evaluator.evaluate(model, dataset, LATENCY).latency();
        } catch (OrtException e) {
            throw modelError(e, "ONNX Runtime cannot time the model");
        }
    }

    private static void putLatency(Map<String, Object> row, ModelEvaluator.Latency latency) {
        row.put("latency_p50_ms", latency.p50Ms() == null ? null : With.round(latency.p50Ms()));
        if (latency.p50Ms() == null) {
            row.put("latency_absent_reason", latency.absentReason());
        }
    }

    private static Double roundOrNull(Double v) {
        return v == null ? null : With.round(v);
    }

    private void verifyLoads(Path model) throws IOException, OrtException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession ignored = OrtSessions.open(env, model, so)) {
            // loading proves ONNX Runtime accepts the rewritten graph
        } catch (OrtException e) {
            throw modelError(e, "a grid point's model does not load in ONNX Runtime; skip the failing layer");
        }
    }

    private OrtException modelError(OrtException e, String what) throws OrtException {
        if (OrtErrors.isModelError(e)) {
            throw new InvalidTaskInputException(name() + ": " + what + ": " + e.getMessage(), e);
        }
        return e;
    }
}
