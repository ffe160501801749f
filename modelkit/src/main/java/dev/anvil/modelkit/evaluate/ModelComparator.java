package dev.anvil.modelkit.evaluate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.OrtSessions;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Runs a candidate model and a reference model (e.g. the float original) over the same dataset and
 * measures how far the candidate moved: top-1 accuracy of both against the labels when the output is
 * class scores and the dataset has labels, top-1 agreement, and cosine similarity of each sample's
 * output (or of its mean-pooled embedding, for token models).
 */
public final class ModelComparator {
    /** How a sample's output becomes the vector compared by cosine. */
    public enum Pooling {
        /** The output as is, flattened per sample. */
        NONE,
        /** Mean over the token axis where {@code attention_mask} is 1, then L2-normalised (sentence embeddings). */
        MEAN
    }

    public record Comparison(long samples, Double candidateAccuracy, Double referenceAccuracy, Double top1Agreement,
            double meanCosine, double minCosine, double seconds) {
        /** Accuracy drop in points (reference minus candidate), when both accuracies are known. */
        public Optional<Double> accuracyDropPoints() {
            return candidateAccuracy == null ? Optional.empty()
                    : Optional.of(100 * (referenceAccuracy - candidateAccuracy));
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
        long started = System.nanoTime();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession cand = OrtSessions.open(env, candidate, options);
                    OrtSession ref = OrtSessions.open(env, reference, options);
                    DatasetReader reader = DatasetReader.open(dataset);
                    DatasetFeed feed = DatasetFeed.open(env, cand, reader, batchSize, limit)) {
                DatasetFeed.check(ref.getInputInfo(), reader);
                String candOut = cand.getOutputNames().iterator().next();
                String refOut = ref.getOutputNames().iterator().next();
                long samples = 0;
                long candCorrect = 0;
                long refCorrect = 0;
                long agree = 0;
                boolean classScores = true;
                boolean labelled = false;
                double cosineSum = 0;
                double cosineMin = Double.POSITIVE_INFINITY;
                while (feed.hasNext()) {
                    try (DatasetFeed.Batch batch = feed.next();
                            OrtSession.Result c = batch.run(cand, java.util.Set.of(candOut));
                            OrtSession.Result r = batch.run(ref, java.util.Set.of(refOut))) {
                        OnnxTensor ct = (OnnxTensor) c.get(0);
                        OnnxTensor rt = (OnnxTensor) r.get(0);
                        long[] shape = ct.getInfo().getShape();
                        float[] cv = floats(ct.getFloatBuffer());
                        float[] rv = floats(rt.getFloatBuffer());
                        if (cv.length != rv.length) {
                            throw new IllegalArgumentException("the candidate's output '" + candOut + "' has "
                                    + cv.length + " values for this batch but the reference's has " + rv.length
                                    + ": they are not the same model task");
                        }
                        int n = batch.size();
                        int per = cv.length / n;
                        classScores &= shape.length == 2;
                        long[] mask = pooling == Pooling.MEAN ? mask(batch) : null;
                        for (int s = 0; s < n; s++) {
                            float[] a;
                            float[] b;
                            if (pooling == Pooling.MEAN) {
                                int tokens = (int) shape[1];
                                int hidden = per / tokens;
                                a = meanPool(cv, s * per, tokens, hidden, mask, s * tokens);
                                b = meanPool(rv, s * per, tokens, hidden, mask, s * tokens);
                            } else {
                                a = java.util.Arrays.copyOfRange(cv, s * per, (s + 1) * per);
                                b = java.util.Arrays.copyOfRange(rv, s * per, (s + 1) * per);
                            }
                            double cos = cosine(a, b);
                            cosineSum += cos;
                            cosineMin = Math.min(cosineMin, cos);
                            if (classScores) {
                                int ca = argmax(cv, s * per, per);
                                int ra = argmax(rv, s * per, per);
                                agree += ca == ra ? 1 : 0;
                                if (batch.labels().isPresent()) {
                                    labelled = true;
                                    long label = batch.labels().get()[s];
                                    candCorrect += ca == label ? 1 : 0;
                                    refCorrect += ra == label ? 1 : 0;
                                }
                            }
                        }
                        samples += n;
                    }
                    progress.batchDone(samples, feed.total());
                }
                double secs = (System.nanoTime() - started) / 1e9;
                Double candAcc = classScores && labelled ? (double) candCorrect / samples : null;
                Double refAcc = classScores && labelled ? (double) refCorrect / samples : null;
                Double agreement = classScores ? (double) agree / samples : null;
                return new Comparison(samples, candAcc, refAcc, agreement, cosineSum / samples, cosineMin, secs);
            }
        }
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

    static float[] meanPool(float[] values, int offset, int tokens, int hidden, long[] mask, int maskOffset) {
        float[] sum = new float[hidden];
        int count = 0;
        for (int t = 0; t < tokens; t++) {
            if (mask[maskOffset + t] == 0) {
                continue;
            }
            count++;
            int base = offset + t * hidden;
            for (int h = 0; h < hidden; h++) {
                sum[h] += values[base + h];
            }
        }
        double norm = 0;
        for (int h = 0; h < hidden; h++) {
            sum[h] /= Math.max(count, 1);
            norm += sum[h] * sum[h];
        }
        norm = Math.sqrt(norm);
        for (int h = 0; h < hidden; h++) {
            sum[h] /= (float) Math.max(norm, 1e-12);
        }
        return sum;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        if (na == 0 && nb == 0) {
            return 1;
        }
        return dot / Math.sqrt(na * nb);
    }

    private static int argmax(float[] v, int offset, int length) {
        int best = 0;
        for (int i = 1; i < length; i++) {
            if (v[offset + i] > v[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    private static float[] floats(FloatBuffer buf) {
        float[] out = new float[buf.remaining()];
        buf.get(out);
        return out;
    }
}
