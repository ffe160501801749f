package dev.anvil.modelkit.evaluate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.inference.InferenceRunner;
import dev.anvil.modelkit.onnx.DatasetFeed;
import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs a candidate model and a reference model (e.g. the float original), each ONNX or .tflite (see
 * {@link InferenceRunner}), over the same dataset and
 * measures how far the candidate moved, output by output: each output gets the metrics its
 * {@link OutputKind} calls for (or those {@link MetricOverrides} names), see {@link ComparisonMetric}.
 * Summary figures: top-1 accuracy of both against the labels (from a label output or class scores, see
 * {@link Scoring}), top-1 agreement, and the mean and least per-sample cosine of the first float output
 * (of its mean-pooled embedding, for token models). A figure the data leave undefined is null with the
 * reason; none is ever NaN or infinite.
 */
public final class ModelComparator {
    /** How a sample's output becomes the vector compared by cosine. */
    public enum Pooling {
        /** The output as is, flattened per sample. */
        NONE,
        /** Mean over the token axis where {@code attention_mask} is 1, then L2-normalised (sentence embeddings). */
        MEAN
    }

    /**
     * @param meanCosine null when cosine is undefined for every sample ({@code cosineNote} says why)
     * @param cosineNote why the per-sample cosine is absent, or which samples it leaves out; null when it covers all
     * @param agreementNote why top-1 agreement (and accuracy) is absent; null when measured
     * @param outputs every output's metrics, in the candidate's output order
     */
    public record Comparison(long samples, Double candidateAccuracy, Double referenceAccuracy, Double top1Agreement,
            Double meanCosine, Double minCosine, double seconds, String cosineNote, String agreementNote,
            Map<String, OutputComparison> outputs) {
        /** Accuracy drop in points (reference minus candidate), when both accuracies are known. */
        public Optional<Double> accuracyDropPoints() {
            return candidateAccuracy == null ? Optional.empty()
                    : Optional.of(100 * (referenceAccuracy - candidateAccuracy));
        }

        /**
         * The figures as a validation report holds them for a reference: {@code agreement},
         * {@code mean_cosine}, {@code min_cosine} (each with {@code <field>_absent_reason} when null) and
         * {@code outputs.<name>.<metric>}.
         */
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("agreement", top1Agreement);
            if (top1Agreement == null && agreementNote != null) {
                m.put("agreement_absent_reason", agreementNote);
            }
            m.put("mean_cosine", meanCosine);
            m.put("min_cosine", minCosine);
            if (meanCosine == null) {
                m.put("mean_cosine_absent_reason", cosineNote);
                m.put("min_cosine_absent_reason", cosineNote);
            } else if (cosineNote != null) {
                m.put("cosine_note", cosineNote);
            }
            Map<String, Object> perOutput = new LinkedHashMap<>();
            outputs.forEach((name, o) -> perOutput.put(name, o.toJson()));
            m.put("outputs", perOutput);
            return m;
        }
    }

    /** Told after every batch. */
    public interface Progress {
        void batchDone(long samplesDone, long total);
    }

    private final OrtEnvironment env;

    public ModelComparator(OrtEnvironment env) {
        this.env = env;
    }

    public Comparison compare(Path candidate, Path reference, Path dataset, Pooling pooling, int batchSize, long limit,
            Progress progress) throws OrtException, IOException {
        return compare(candidate, reference, dataset, pooling, MetricOverrides.NONE, batchSize, limit, progress);
    }

    /** @throws IllegalArgumentException when the models' outputs differ or {@code metrics} names an unknown output */
    public Comparison compare(Path candidate, Path reference, Path dataset, Pooling pooling, MetricOverrides metrics,
            int batchSize, long limit, Progress progress) throws OrtException, IOException {
        long started = System.nanoTime();
        try (InferenceRunner cand = InferenceRunner.open(env, candidate, 0);
                InferenceRunner ref = InferenceRunner.open(env, reference, 0);
                DatasetReader reader = DatasetReader.open(dataset);
                DatasetFeed feed = cand.feed(reader, batchSize, limit)) {
            ref.feed(reader, batchSize, limit).close(); // checks the dataset fits the reference too
            Map<String, NodeInfo> outputInfo = cand.outputs();
            sameOutputs(new ArrayList<>(outputInfo.keySet()), new ArrayList<>(ref.outputs().keySet()));
            metrics.checkOutputs(outputInfo.keySet());
            boolean tokenModel = OutputKind.tokenModel(cand.inputs());
            Map<String, OutputAccumulator> accumulators = new LinkedHashMap<>();
            Map<String, OutputComparison> unsupported = new LinkedHashMap<>();
            String primary = null;
            for (NodeInfo info : outputInfo.values()) {
                String name = info.getName();
                OutputKind kind = OutputKind.of(name, info.getInfo(), tokenModel);
                if (kind == OutputKind.UNSUPPORTED) {
                    unsupported.put(name, new OutputComparison(name, kind, List.of(), null, 0, Map.of(), Map.of(),
                            OutputKind.unsupportedReason(name, info.getInfo()) + "; it is not compared"));
                    continue;
                }
                boolean pool = pooling == Pooling.MEAN && kind == OutputKind.EMBEDDING
                        && info.getInfo() instanceof TensorInfo t && t.getShape().length == 3;
                accumulators.put(name, new OutputAccumulator(name, kind, metrics.metricsFor(name, kind),
                        metrics.thresholdFor(name), pool));
                if (primary == null && kind != OutputKind.LABELS) {
                    primary = name;
                }
            }
            boolean pooled = pooling == Pooling.MEAN;
            Scoring scoring = Scoring.of(outputInfo, tokenModel);
            String scoredOutput = scoring.labelOutput() != null ? scoring.labelOutput() : scoring.scoresOutput();
            String agreementNote = scoring.absentReason();
            long samples = 0;
            long candCorrect = 0;
            long refCorrect = 0;
            long agree = 0;
            boolean labelled = true;
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next();
                        InferenceRunner.Outputs c = cand.run(batch, outputInfo.keySet());
                        InferenceRunner.Outputs r = ref.run(batch, outputInfo.keySet())) {
                    int n = batch.size();
                    long[] mask = pooled ? mask(batch) : null;
                    Map<String, OutputValues[]> batchValues = new LinkedHashMap<>();
                    for (OutputAccumulator acc : accumulators.values()) {
                        String name = acc.output();
                        OutputValues cv = OutputValues.of(name, value(c, name), acc.keys());
                        OutputValues rv = OutputValues.of(name, value(r, name), cv.keys());
                        acc.add(cv, rv, n, mask);
                        batchValues.put(name, new OutputValues[] {cv, rv});
                    }
                    labelled &= batch.labels().isPresent();
                    if (scoredOutput != null && agreementNote == null) {
                        OutputValues[] scored = batchValues.get(scoredOutput);
                        try {
                            for (int s = 0; s < n; s++) {
                                long ca = predicted(scoredOutput, scoring, scored[0], s, n);
                                long ra = predicted(scoredOutput, scoring, scored[1], s, n);
                                agree += ca == ra ? 1 : 0;
                                if (batch.labels().isPresent()) {
                                    long label = batch.labels().get()[s];
                                    candCorrect += ca == label ? 1 : 0;
                                    refCorrect += ra == label ? 1 : 0;
                                }
                            }
                        } catch (IllegalArgumentException unscorable) {
                            agreementNote = unscorable.getMessage();
                        }
                    }
                    samples += n;
                }
                progress.batchDone(samples, feed.total());
            }
            double secs = (System.nanoTime() - started) / 1e9;
            if (samples == 0 && agreementNote == null) {
                agreementNote = "no sample was compared: the dataset has no samples to feed";
            }
            boolean scored = agreementNote == null;
            Double candAcc = scored && labelled ? (double) candCorrect / samples : null;
            Double refAcc = scored && labelled ? (double) refCorrect / samples : null;
            Double agreement = scored ? (double) agree / samples : null;
            OutputAccumulator.SampleCosine cosine = primary == null
                    ? new OutputAccumulator.SampleCosine(null, null,
                            "no output holds floats (the outputs are labels or unsupported types): cosine is not measured")
                    : accumulators.get(primary).sampleCosine();
            Map<String, OutputComparison> perOutput = new LinkedHashMap<>();
            for (String name : outputInfo.keySet()) {
                perOutput.put(name, accumulators.containsKey(name) ? accumulators.get(name).result() : unsupported.get(name));
            }
            return new Comparison(samples, candAcc, refAcc, agreement, cosine.mean(), cosine.min(), secs,
                    cosine.note(), agreementNote, perOutput);
        }
    }

    private static long predicted(String output, Scoring scoring, OutputValues values, int s, int n) {
        if (output.equals(scoring.labelOutput())) {
            return (long) values.values()[s * values.perSample(n)];
        }
        return Scoring.ranked(output, values, s, n, 1)[0];
    }

    private static OnnxValue value(InferenceRunner.Outputs result, String name) {
        return result.get(name).orElseThrow(() -> new IllegalStateException("the runtime returned no output '" + name + "'"));
    }

    /** @throws IllegalArgumentException naming the outputs only one model has */
    static void sameOutputs(List<String> candidate, List<String> reference) {
        if (candidate.size() == reference.size() && candidate.containsAll(reference)) {
            return;
        }
        List<String> onlyCandidate = new ArrayList<>(candidate);
        onlyCandidate.removeAll(reference);
        List<String> onlyReference = new ArrayList<>(reference);
        onlyReference.removeAll(candidate);
        throw new IllegalArgumentException("the candidate's outputs " + candidate + " and the reference's " + reference
                + " differ (only the candidate has " + onlyCandidate + ", only the reference has " + onlyReference
                + "): outputs are compared by name, so both models must have the same output names");
    }

    private static long[] mask(DatasetFeed.Batch batch) {
        OnnxTensor m = batch.inputs().get("attention_mask");
        if (m == null) {
            throw new IllegalArgumentException("mean pooling needs an 'attention_mask' input in the dataset");
        }
        LongBuffer buf = m.getLongBuffer();
        long[] out = new long[buf.remaining()];
        buf.get(out);
        return out;
    }
}
