package dev.anvil.modelkit.train;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.OrtSessions;
import java.nio.file.Path;

/**
 * A teacher model's soft labels for distillation: its class scores on every row, as probabilities at a
 * temperature. Scores that are already probabilities (every row non-negative, summing to 1) are sharpened or
 * softened as {@code softmax(log p / T)}; anything else is taken as logits, {@code softmax(z / T)}.
 */
public final class SoftLabels {
    private static final double SUM_TOLERANCE = 1e-3;

    /** @param probabilities one row per sample; {@code fromProbabilities} says what the teacher gave */
    public record Labels(float[][] probabilities, int[] hard, boolean fromProbabilities, double meanConfidence) {}

    private SoftLabels() {}

    /** Runs the teacher (one float input, the first output its class scores) over the rows. */
    public static float[][] teacherScores(OrtEnvironment env, Path teacher, String input, float[][] rows)
            throws OrtException, java.io.IOException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = OrtSessions.open(env, teacher, so)) {
            if (!session.getInputNames().contains(input)) {
                throw new IllegalArgumentException("the teacher model has no input '" + input + "'; its inputs are "
                        + session.getInputNames() + " (name the dataset input after the model's)");
            }
            if (session.getInputNames().size() != 1) {
                throw new IllegalArgumentException("the teacher model has inputs " + session.getInputNames()
                        + "; labelling feeds one table of features");
            }
            return TabularTrainer.predict(env, session, input, rows);
        }
    }

    public static Labels of(float[][] scores, double temperature) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be above 0, got " + temperature);
        }
        if (scores.length == 0 || scores[0].length < 2) {
            throw new IllegalArgumentException("the teacher's output has " + (scores.length == 0 ? 0 : scores[0].length)
                    + " column(s); soft labels need a score per class (two or more)");
        }
        boolean probabilities = true;
        for (float[] row : scores) {
            double sum = 0;
            for (float v : row) {
                if (v < 0 || !Float.isFinite(v)) {
                    probabilities = false;
                }
                sum += v;
            }
            if (Math.abs(sum - 1) > SUM_TOLERANCE) {
                probabilities = false;
            }
        }
        float[][] out = new float[scores.length][];
        int[] hard = new int[scores.length];
        double confidence = 0;
        for (int i = 0; i < scores.length; i++) {
            double[] z = new double[scores[i].length];
            for (int c = 0; c < z.length; c++) {
                double v = scores[i][c];
                z[c] = (probabilities ? Math.log(Math.max(v, 1e-30)) : v) / temperature;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int c = 0; c < z.length; c++) {
                z[c] = Math.exp(z[c] - max);
                sum += z[c];
            }
            out[i] = new float[z.length];
            for (int c = 0; c < z.length; c++) {
                out[i][c] = (float) (z[c] / sum);
            }
            hard[i] = Metrics.argmax(scores[i]);
            confidence += out[i][hard[i]];
        }
        return new Labels(out, hard, probabilities, confidence / scores.length);
    }
}
