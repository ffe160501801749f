package dev.anvil.modelkit.compress;

import java.util.Arrays;
import java.util.Random;

/**
 * k-means on scalars. Sorted, the clusters of 1-D k-means are runs of neighbouring values split at the
 * midpoints between centroids, so one Lloyd iteration is k binary searches and k means from prefix sums.
 */
final class KMeans1d {

    private KMeans1d() {}

    /**
     * The centroids, ascending. When the values hold at most k distinct numbers, they are the centroids
     * (exact); an empty cluster is moved to the value farthest from its centroid.
     */
    static float[] fit(float[] values, int k, ClusterOptions.Init init, long seed, int iterations) {
        double[] sorted = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            sorted[i] = values[i];
        }
        Arrays.sort(sorted);
        double[] distinct = distinct(sorted, k + 1);
        if (distinct.length <= k) {
            return toFloats(distinct);
        }
        double[] prefix = new double[sorted.length + 1];
        for (int i = 0; i < sorted.length; i++) {
            prefix[i + 1] = prefix[i] + sorted[i];
        }
        double[] c = init == ClusterOptions.Init.LINEAR ? linear(sorted, k) : kmeansPlusPlus(sorted, k, seed);
        int[] start = new int[k + 1];
        for (int it = 0; it < iterations; it++) {
            Arrays.sort(c);
            bounds(sorted, c, start);
            boolean moved = false;
            for (int j = 0; j < k; j++) {
                int n = start[j + 1] - start[j];
                double next;
                if (n == 0) {
                    next = farthest(sorted, c, start);
                } else {
                    next = (prefix[start[j + 1]] - prefix[start[j]]) / n;
                }
                moved |= next != c[j];
                c[j] = next;
            }
            if (!moved) {
                break;
            }
        }
        Arrays.sort(c);
        return toFloats(c);
    }

    /** The index of the centroid nearest to {@code v} (centroids ascending; ties go to the lower one). */
    static int nearest(float[] centroids, float v) {
        int lo = 0;
        int hi = centroids.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (v - centroids[mid] > centroids[mid + 1] - v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static void bounds(double[] sorted, double[] c, int[] start) {
        int k = c.length;
        start[0] = 0;
        start[k] = sorted.length;
        for (int j = 1; j < k; j++) {
            double mid = (c[j - 1] + c[j]) / 2;
            int at = Arrays.binarySearch(sorted, mid);
            if (at < 0) {
                at = -at - 1;
            } else {
                while (at > 0 && sorted[at - 1] == mid) {
                    at--;
                }
                at++; // a value exactly at the midpoint goes to the lower centroid
                while (at < sorted.length && sorted[at] == mid) {
                    at++;
                }
            }
            start[j] = Math.max(at, start[j - 1]);
        }
    }

    private static double farthest(double[] sorted, double[] c, int[] start) {
        double worst = -1;
        double at = sorted[0];
        for (int j = 0; j < c.length; j++) {
            for (int i : new int[] {start[j], start[j + 1] - 1}) {
                if (i >= start[j] && i < start[j + 1]) {
                    double d = Math.abs(sorted[i] - c[j]);
                    if (d > worst) {
                        worst = d;
                        at = sorted[i];
                    }
                }
            }
        }
        return at;
    }

    private static double[] linear(double[] sorted, int k) {
        double lo = sorted[0];
        double hi = sorted[sorted.length - 1];
        double[] c = new double[k];
        for (int j = 0; j < k; j++) {
            c[j] = lo + (hi - lo) * j / (k - 1);
        }
        return c;
    }

    /** k-means++ (Arthur and Vassilvitskii): each next centroid drawn with probability ∝ squared distance. */
    private static double[] kmeansPlusPlus(double[] sorted, int k, long seed) {
        Random random = new Random(seed);
        double[] c = new double[k];
        double[] d2 = new double[sorted.length];
        c[0] = sorted[random.nextInt(sorted.length)];
        for (int i = 0; i < sorted.length; i++) {
            d2[i] = sq(sorted[i] - c[0]);
        }
        for (int j = 1; j < k; j++) {
            double total = 0;
            for (double d : d2) {
                total += d;
            }
            double r = random.nextDouble() * total;
            int pick = sorted.length - 1;
            for (int i = 0; i < sorted.length; i++) {
                r -= d2[i];
                if (r <= 0 && d2[i] > 0) {
                    pick = i;
                    break;
                }
            }
            c[j] = sorted[pick];
            for (int i = 0; i < sorted.length; i++) {
                d2[i] = Math.min(d2[i], sq(sorted[i] - c[j]));
            }
        }
        return c;
    }

    private static double[] distinct(double[] sorted, int atMost) {
        double[] out = new double[Math.min(atMost, sorted.length)];
        int n = 0;
        for (int i = 0; i < sorted.length && n < atMost; i++) {
            if (n == 0 || sorted[i] != out[n - 1]) {
                out[n++] = sorted[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static double sq(double v) {
        return v * v;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
