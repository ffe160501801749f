package dev.anvil.modelkit.validate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.evaluate.OutputKind;
import dev.anvil.modelkit.evaluate.OutputValues;
import dev.anvil.modelkit.evaluate.Scoring;
import dev.anvil.modelkit.inference.InferenceRunner;
import dev.anvil.modelkit.onnx.DatasetFeed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Measures one model on a dataset, an ONNX model in ONNX Runtime or a .tflite in the TFLite interpreter (see
 * {@link InferenceRunner}): top-1 and top-k accuracy, per-class
 * precision and recall and the confusion matrix (when an output holds labels or class scores, tensors or
 * ONNX-ML sequences of maps, and the dataset has labels), latency per batch (p50/p95/p99 and a {@link LatencyHistogram}, the warm-up batches left out),
 * throughput, file size and the process memory the session added. A figure that was not measured is
 * null with the reason, never 0. A plain engine; the operator adapts it.
 */
public final class ModelEvaluator {

    /**
     * @param batchSize samples per run (the batch the latency figures are for)
     * @param threads ONNX Runtime intra-op threads
     * @param topK the k of top-k accuracy
     * @param samples at most this many samples, 0 = all
     * @param warmupBatches batches run before latency is recorded (first runs allocate and tune)
     * @param minTimedBatches latency is taken from at least this many timed runs: a dataset with fewer batches
     *     is run again, for latency only (accuracy counts each sample once), so that the quartiles state a spread
     */
    public record Options(int batchSize, int threads, int topK, long samples, int warmupBatches, int minTimedBatches) {
        /** The default number of timed runs latency is taken from. */
        public static final int MIN_TIMED_BATCHES = 20;

        public Options {
            if (batchSize < 1 || threads < 1 || topK < 1 || samples < 0 || warmupBatches < 0 || minTimedBatches < 1) {
                throw new IllegalArgumentException("batch_size, threads, top_k and min_timed_batches must be at least 1,"
                        + " samples and warmup at least 0");
            }
        }

        public Options(int batchSize, int threads, int topK, long samples, int warmupBatches) {
            this(batchSize, threads, topK, samples, warmupBatches, MIN_TIMED_BATCHES);
        }
    }

    /**
     * Percentiles are nearest-rank. When no batch was timed every figure and {@code histogram} are null
     * and {@code absentReason} says why; otherwise {@code absentReason} is null.
     *
     * @param p25Ms the first quartile and {@code p75Ms} the third: their gap (the interquartile range) is
     *     the spread a difference must exceed to be more than noise
     * @param batches batches timed
     * @param warmupBatches batches run first and left out (see {@link #warmupFor})
     * @param repeatedBatches how many of the timed runs ran a batch again because the dataset has fewer batches than
     *     {@link Options#minTimedBatches()}
     */
    public record Latency(Double p50Ms, Double p95Ms, Double p99Ms, Double meanMs, Double p25Ms, Double p75Ms,
                          int batches, int warmupBatches, String absentReason, LatencyHistogram histogram,
                          int repeatedBatches) {}

    public record ClassStats(int label, long support, Double precision, Double recall) {}

    /**
     * Classification figures are null, with the reason, when no output holds labels or class scores (see
     * {@link Scoring}) or the dataset has no labels.
     */
    /**
     * @param accuracyAbsentReason why accuracy, per-class figures and the confusion matrix are absent; null when measured
     * @param topKAbsentReason why top-k accuracy is absent (a model with only a label output has no ranking)
     * @param scoredOutput the output the accuracy was scored on (see {@link Scoring}), null when none fits
     * @param runtime what ran the model ({@link InferenceRunner#runtime()})
     * @param runtimeNote how the runtime ran the batches when not as asked ({@link InferenceRunner#note()}), else null
     */
    public record Evaluation(long samples, Double accuracy, Double topKAccuracy, int topK, List<ClassStats> perClass,
                             long[][] confusionMatrix, Latency latency, Double throughputPerSecond, int batchSize,
                             int threads, long sizeBytes, Long sessionMemoryBytes, String accuracyAbsentReason,
                             String topKAbsentReason, String scoredOutput, String runtime, String runtimeNote) {}

    private final OrtEnvironment env;

    public ModelEvaluator(OrtEnvironment env) {
        this.env = env;
    }

    public Evaluation evaluate(Path model, Path dataset, Options options) throws OrtException, IOException {
        Long rssBefore = ProcessMemory.residentBytes();
        try (InferenceRunner runner = InferenceRunner.open(env, model, options.threads());
                DatasetReader reader = DatasetReader.open(dataset);
                DatasetFeed feed = runner.feed(reader, options.batchSize(), options.samples())) {
            Map<String, NodeInfo> outputs = runner.outputs();
            Scoring scoring = Scoring.of(outputs, OutputKind.tokenModel(runner.inputs()));
            String accuracyReason = scoring.absentReason();
            String topKReason = scoring.scored() && scoring.scoresOutput() == null
                    ? "top-k accuracy needs class scores; the model's only prediction is its label output '"
                            + scoring.labelOutput() + "'"
                    : null;
            List<Double> batchMillis = new ArrayList<>();
            long samples = 0;
            long runNanos = 0;
            long top1 = 0;
            long topk = 0;
            boolean labelled = true;
            Confusion confusion = new Confusion();
            List<Object> keys = null;
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next()) {
                    long t0 = System.nanoTime();
                    // every output, as a client of the served model gets them: the latency is the whole model's
                    try (InferenceRunner.Outputs result = runner.run(batch, outputs.keySet())) {
                        long elapsed = System.nanoTime() - t0;
                        batchMillis.add(elapsed / 1e6);
                        runNanos += elapsed;
                        int n = batch.size();
                        labelled &= batch.labels().isPresent();
                        if (accuracyReason == null && batch.labels().isPresent()) {
                            OutputValues labelValues = scoring.labelOutput() == null ? null
                                    : OutputValues.of(scoring.labelOutput(), output(result, scoring.labelOutput()), null);
                            OutputValues scores = scoring.scoresOutput() == null ? null
                                    : OutputValues.of(scoring.scoresOutput(), output(result, scoring.scoresOutput()), keys);
                            if (scores != null) {
                                keys = scores.keys();
                                String named = namedClasses(scoring.scoresOutput(), scores);
                                if (named != null && labelValues == null) {
                                    accuracyReason = named;
                                    samples += n;
                                    continue;
                                } else if (named != null) {
                                    topKReason = named;
                                    scores = null;
                                }
                            }
                            if (scores != null) {
                                confusion.ensure(scores.keys() == null ? scores.perSample(n)
                                        : (int) scores.keys().stream().mapToLong(k -> ((Number) k).longValue()).max().orElse(-1) + 1);
                            }
                            long[] labels = batch.labels().get();
                            for (int s = 0; s < n; s++) {
                                long label = labels[s];
                                if (label < 0 || (scores != null && scores.keys() == null && label >= scores.perSample(n))) {
                                    throw new IllegalArgumentException("label " + label + " of sample "
                                            + (batch.firstSample() + s) + " is outside the model's "
                                            + (scores == null ? "classes (labels are class numbers from 0)"
                                                    : scores.perSample(n) + " classes"));
                                }
                                long[] ranked = scores == null ? null
                                        : Scoring.ranked(scoring.scoresOutput(), scores, s, n, options.topK());
                                long predicted = labelValues != null
                                        ? (long) labelValues.values()[s * labelValues.perSample(n)] : ranked[0];
                                confusion.add(label, predicted);
                                top1 += predicted == label ? 1 : 0;
                                if (ranked != null) {
                                    topk += Arrays.stream(ranked).anyMatch(c -> c == label) ? 1 : 0;
                                }
                            }
                        }
                        samples += n;
                    }
                }
            }
            int firstPass = batchMillis.size();
            if (firstPass > 0 && !reader.manifest().isStateful()) {
                repeatForLatency(runner, reader, options, outputs.keySet(), batchMillis);
            }
            if (accuracyReason == null && (!labelled || samples == 0)) {
                accuracyReason = samples == 0 ? "no batch ran: the dataset has no samples to feed"
                        : "the dataset has no labels (labels.npy): accuracy needs a labelled dataset";
            }
            if (topKReason == null) {
                topKReason = accuracyReason;
            }
            Long rssAfter = ProcessMemory.residentBytes();
            Long memory = rssBefore == null || rssAfter == null ? null : Math.max(0, rssAfter - rssBefore);
            boolean classification = accuracyReason == null;
            boolean ranked = topKReason == null;
            long[][] matrix = classification ? confusion.matrix() : null;
            return new Evaluation(samples,
                    classification ? (double) top1 / samples : null,
                    ranked ? (double) topk / samples : null,
                    options.topK(),
                    classification ? perClass(matrix) : List.of(),
                    matrix,
                    latency(batchMillis, options.warmupBatches(), batchMillis.size() - firstPass),
                    runNanos == 0 ? null : samples / (runNanos / 1e9),
                    feed.batchSize(), options.threads(), Files.size(model), memory,
                    accuracyReason, topKReason, scoring.labelOutput() != null ? scoring.labelOutput() : scoring.scoresOutput(),
                    runner.runtime(), runner.note());
        }
    }

    /**
     * Runs the dataset's batches again, in order and for latency only, until at least
     * {@link Options#minTimedBatches()} runs are timed after warm-up. Not for a stateful dataset: its steps cannot be
     * replayed out of their sequence.
     */
    private void repeatForLatency(InferenceRunner runner, DatasetReader reader, Options options, Set<String> outputs,
            List<Double> batchMillis) throws OrtException, IOException {
        while (batchMillis.size() - warmupFor(options.warmupBatches(), batchMillis.size()) < options.minTimedBatches()) {
            try (DatasetFeed again = runner.feed(reader, options.batchSize(), options.samples())) {
                while (again.hasNext()
                        && batchMillis.size() - warmupFor(options.warmupBatches(), batchMillis.size()) < options.minTimedBatches()) {
                    try (DatasetFeed.Batch batch = again.next()) {
                        long t0 = System.nanoTime();
                        try (InferenceRunner.Outputs ignored = runner.run(batch, outputs)) {
                            batchMillis.add((System.nanoTime() - t0) / 1e6);
                        }
                    }
                }
            }
        }
    }

    private static OnnxValue output(InferenceRunner.Outputs result, String name) {
        return result.get(name).orElseThrow(() -> new IllegalStateException("the runtime returned no output '" + name + "'"));
    }

    /** Why class scores keyed by names cannot be matched with labels.npy's class numbers; null when keyed by numbers. */
    private static String namedClasses(String output, OutputValues scores) {
        if (scores.keys() == null || scores.keys().stream().allMatch(k -> k instanceof Number)) {
            return null;
        }
        return "output '" + output + "' scores classes by name " + scores.keys()
                + " but labels.npy holds class numbers: accuracy from these scores is not measured";
    }

    /** A confusion matrix that grows to the largest class seen (a label output does not say how many classes there are). */
    private static final class Confusion {
        private long[][] counts = new long[0][0];

        void add(long label, long predicted) {
            if (predicted < 0) {
                throw new IllegalArgumentException("the model predicted class " + predicted
                        + "; class numbers start at 0");
            }
            ensure((int) Math.max(label, predicted) + 1);
            counts[(int) label][(int) predicted]++;
        }

        void ensure(int needed) {
            if (needed > counts.length) {
                long[][] grown = new long[needed][needed];
                for (int i = 0; i < counts.length; i++) {
                    System.arraycopy(counts[i], 0, grown[i], 0, counts.length);
                }
                counts = grown;
            }
        }

        long[][] matrix() {
            return counts;
        }
    }

    static List<ClassStats> perClass(long[][] confusion) {
        List<ClassStats> stats = new ArrayList<>();
        for (int c = 0; c < confusion.length; c++) {
            long truePositive = confusion[c][c];
            long support = Arrays.stream(confusion[c]).sum();
            long predicted = 0;
            for (long[] row : confusion) {
                predicted += row[c];
            }
            stats.add(new ClassStats(c, support, predicted == 0 ? null : (double) truePositive / predicted,
                    support == 0 ? null : (double) truePositive / support));
        }
        return stats;
    }

    /**
     * The batches left out as warm-up when {@code ran} batches ran: {@code requested}, but at most a
     * quarter of them (rounded down), so at least one batch is timed whenever one ran.
     */
    static int warmupFor(int requested, int ran) {
        return Math.min(requested, ran / 4);
    }

    /** Latency over every batch that ran, in order, the warm-up ones first. */
    static Latency latency(List<Double> allMillis, int requestedWarmup) {
        return latency(allMillis, requestedWarmup, 0);
    }

    /** As {@link #latency(List, int)}, where the last {@code repeated} runs ran a batch again. */
    static Latency latency(List<Double> allMillis, int requestedWarmup, int repeated) {
        int warmup = warmupFor(requestedWarmup, allMillis.size());
        Latency l = latencyOf(allMillis.subList(warmup, allMillis.size()), warmup, allMillis.size());
        return new Latency(l.p50Ms(), l.p95Ms(), l.p99Ms(), l.meanMs(), l.p25Ms(), l.p75Ms(), l.batches(),
                l.warmupBatches(), l.absentReason(), l.histogram(), repeated);
    }

    static Latency latencyOf(List<Double> timed, int warmup, int ran) {
        if (timed.isEmpty()) {
            String reason = ran == 0
                    ? "no batch ran: the dataset has no samples to feed"
                    : "the dataset has " + ran + " batch(es) and warm-up took " + warmup + ": nothing was timed";
            return new Latency(null, null, null, null, null, null, 0, warmup, reason, null, 0);
        }
        double[] sorted = timed.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Latency(percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99),
                Arrays.stream(sorted).average().orElseThrow(), percentile(sorted, 25), percentile(sorted, 75),
                sorted.length, warmup, null, LatencyHistogram.of(timed), 0);
    }

    /** Nearest-rank percentile. */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static Map<String, Object> latencyJson(Latency l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50", l.p50Ms());
        m.put("p95", l.p95Ms());
        m.put("p99", l.p99Ms());
        m.put("mean", l.meanMs());
        // added after anvil.validation/v1 first shipped, like the histogram: readers must treat them as optional
        m.put("p25", l.p25Ms());
        m.put("p75", l.p75Ms());
        m.put("batches", l.batches());
        m.put("warmup_batches", l.warmupBatches());
        m.put("repeated_batches", l.repeatedBatches());
        if (l.absentReason() != null) {
            m.put("absent_reason", l.absentReason());
        }
        if (l.histogram() != null) {
            // added after anvil.validation/v1 first shipped: readers must treat it as optional
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("edges", l.histogram().edgesMs());
            h.put("counts", l.histogram().counts());
            m.put("histogram", h);
        }
        return m;
    }

    /** The evaluation as the report's JSON object (snake_case keys, as specs and gate rules use). */
    public static Map<String, Object> toJson(Evaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", e.samples());
        m.put("accuracy", e.accuracy());
        if (e.accuracy() == null && e.accuracyAbsentReason() != null) {
            m.put("accuracy_absent_reason", e.accuracyAbsentReason());
        }
        m.put("top_k_accuracy", e.topKAccuracy());
        if (e.topKAccuracy() == null && e.topKAbsentReason() != null) {
            m.put("top_k_accuracy_absent_reason", e.topKAbsentReason());
        }
        if (e.scoredOutput() != null) {
            m.put("scored_output", e.scoredOutput());
        }
        m.put("top_k", e.topK());
        m.put("latency_ms", latencyJson(e.latency()));
        m.put("throughput_per_s", e.throughputPerSecond());
        if (e.throughputPerSecond() == null) {
            m.put("throughput_per_s_absent_reason", "no batch ran: the dataset has no samples to feed");
        }
        m.put("batch_size", e.batchSize());
        // added after anvil.validation/v1 first shipped: readers must treat them as optional
        m.put("runtime", e.runtime());
        if (e.runtimeNote() != null) {
            m.put("runtime_note", e.runtimeNote());
        }
        m.put("threads", e.threads());
        m.put("size_bytes", e.sizeBytes());
        m.put("session_memory_bytes", e.sessionMemoryBytes());
        List<Map<String, Object>> classes = new ArrayList<>();
        for (ClassStats c : e.perClass()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("class", c.label());
            row.put("support", c.support());
            row.put("precision", c.precision());
            row.put("recall", c.recall());
            classes.add(row);
        }
        m.put("per_class", classes);
        m.put("confusion_matrix", e.confusionMatrix());
        return m;
    }
}
