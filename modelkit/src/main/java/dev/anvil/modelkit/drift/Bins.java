package dev.anvil.modelkit.drift;

import java.util.Arrays;

/**
 * Bin edges taken from a reference sample's quantiles, so every bin holds about the same share of the
 * reference (the usual PSI binning); ties collapse bins, so a feature with few distinct values gets fewer.
 * A value falls in bin i when edges[i−1] < v ≤ edges[i]; the first and last bins are open.
 */
public record Bins(double[] edges) {
    public Bins {
        edges = edges.clone();
    }

    /** Quantile edges of the reference: {@code count} bins at most. */
    public static Bins quantiles(double[] reference, int count) {
        if (reference.length == 0) {
            throw new IllegalArgumentException("quantile bins need a non-empty reference sample");
        }
        if (count < 2) {
            throw new IllegalArgumentException("bins: count is " + count + "; at least 2");
        }
        double[] sorted = reference.clone();
        Arrays.sort(sorted);
        double[] edges = new double[count - 1];
        int n = 0;
        for (int i = 1; i < count; i++) {
            double q = sorted[(int) Math.min(sorted.length - 1, Math.ceil((double) i * sorted.length / count) - 1)];
            if (n == 0 || q > edges[n - 1]) {
                edges[n++] = q;
            }
        }
        return new Bins(Arrays.copyOf(edges, n));
    }

    public int count() {
        return edges.length + 1;
    }

    public int indexOf(double value) {
        int i = Arrays.binarySearch(edges, value);
        return i >= 0 ? i : -i - 1;
    }

    public long[] counts(double[] values) {
        long[] counts = new long[count()];
        for (double v : values) {
            counts[indexOf(v)]++;
        }
        return counts;
    }

    @Override
    public double[] edges() {
        return edges.clone();
    }
}
