package dev.anvil.modelkit.train;

import java.util.Optional;

/**
 * A tabular training set in memory: one row of {@code features} per sample and its target, a class index
 * ({@code classes}) or a number ({@code values}); optionally soft targets (a probability per class per sample,
 * from a teacher model) for distillation.
 */
public record TrainingData(float[][] features, int[] classes, double[] values, Optional<float[][]> soft) {
    public TrainingData {
        soft = soft == null ? Optional.empty() : soft;
    }

    public int samples() {
        return features.length;
    }

    public int featureCount() {
        return features.length == 0 ? 0 : features[0].length;
    }

    /** The rows at {@code indices}, in that order. */
    public TrainingData take(int[] indices) {
        float[][] f = new float[indices.length][];
        int[] c = classes == null ? null : new int[indices.length];
        double[] v = values == null ? null : new double[indices.length];
        float[][] s = soft.map(x -> new float[indices.length][]).orElse(null);
        for (int i = 0; i < indices.length; i++) {
            f[i] = features[indices[i]];
            if (c != null) {
                c[i] = classes[indices[i]];
            }
            if (v != null) {
                v[i] = values[indices[i]];
            }
            if (s != null) {
                s[i] = soft.get()[indices[i]];
            }
        }
        return new TrainingData(f, c, v, Optional.ofNullable(s));
    }
}
