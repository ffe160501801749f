package dev.anvil.modelkit.quantize;

import java.nio.FloatBuffer;

/**
 * What calibration learns about one tensor, in one streaming pass: the smallest and largest value and,
 * when asked, a histogram of absolute values over {@code [0, upper]}. The histogram's range starts at the
 * first non-zero maximum and doubles (merging bin pairs, which is exact) whenever a larger value
 * arrives, so no second pass over the data is needed and memory stays at {@code bins} counters.
 *
 * <p>The state is plain data ({@link #snapshot()} / {@link #restore}) so a checkpoint can carry it.
 */
public final class TensorStats {
    public static final int DEFAULT_BINS = 2048;

    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private long count;
    private long zeros;
    private final long[] histogram;
    private double upper;
    /** Per-channel (last axis) min and max, when asked for: what activation smoothing needs. */
    private double[] channelMin;
    private double[] channelMax;
    private boolean channels;
    /** Where slices of a direct buffer are read into; never part of the state. */
    private float[] scratch;
    private static final int SLICE = 16 * 1024;

    /** @param bins histogram bins, 0 for min/max only */
    public TensorStats(int bins) {
        if (bins != 0 && (bins < 16 || Integer.bitCount(bins) != 1)) {
            throw new IllegalArgumentException("histogram bins must be 0 or a power of two of at least 16, got " + bins);
        }
        this.histogram = new long[bins];
    }

    /** Also keeps min and max per channel of the last axis. */
    public TensorStats withChannels() {
        channels = true;
        return this;
    }

    /** Plain-data form of the state, for checkpoints and calibration tables. */
    public record Snapshot(double min, double max, long count, long zeros, double upper, long[] histogram,
            boolean channels, double[] channelMin, double[] channelMax) {}

    public Snapshot snapshot() {
        return new Snapshot(min, max, count, zeros, upper, histogram.clone(), channels,
                channelMin == null ? null : channelMin.clone(), channelMax == null ? null : channelMax.clone());
    }

    public static TensorStats restore(Snapshot s) {
        TensorStats stats = new TensorStats(s.histogram() == null ? 0 : s.histogram().length);
        stats.min = s.min();
        stats.max = s.max();
        stats.count = s.count();
        stats.zeros = s.zeros();
        stats.upper = s.upper();
        if (s.histogram() != null) {
            System.arraycopy(s.histogram(), 0, stats.histogram, 0, s.histogram().length);
        }
        stats.channels = s.channels();
        stats.channelMin = s.channelMin() == null ? null : s.channelMin().clone();
        stats.channelMax = s.channelMax() == null ? null : s.channelMax().clone();
        return stats;
    }

    public void add(FloatBuffer values) {
        add(values, 0);
    }

    /**
     * Folds in a tensor's values. A heap buffer is read in place; any other (ONNX Runtime's direct output
     * buffers) is read in slices through a small scratch array, so no copy of the whole tensor is made.
     *
     * @param lastDim the size of the tensor's last axis, for per-channel statistics (0 when unknown)
     */
    public void add(FloatBuffer values, int lastDim) {
        int n = values.remaining();
        if (n == 0) {
            return;
        }
        if (values.hasArray()) {
            int offset = values.arrayOffset() + values.position();
            fold(values.array(), offset, offset + n, 0, lastDim);
            return;
        }
        if (scratch == null) {
            scratch = new float[SLICE];
        }
        FloatBuffer view = values.duplicate();
        for (int done = 0; done < n; ) {
            int len = Math.min(SLICE, n - done);
            view.get(scratch, 0, len);
            fold(scratch, 0, len, done, lastDim);
            done += len;
        }
    }

    public void add(float[] v) {
        fold(v, 0, v.length, 0, 0);
    }

    /**
     * Folds {@code v[from, to)}, which starts at flat index {@code base} of its tensor. Min and max come
     * first so the histogram can grow before binning; growing between slices is exact (a doubled range
     * merges bin pairs, and halving the bin width in binary floating point rounds the same way), so the
     * result does not depend on how a tensor is sliced.
     */
    private void fold(float[] v, int from, int to, long base, int lastDim) {
        if (from == to) {
            return;
        }
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        boolean finite = true;
        for (int i = from; i < to; i++) {
            float x = v[i];
            finite &= Math.abs(x) <= Float.MAX_VALUE; // false for NaN and the infinities
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        if (!finite) {
            throw new IllegalArgumentException("the tensor holds NaN or infinite values");
        }
        if (channels && lastDim > 0) {
            addChannels(v, from, to, base, lastDim);
        }
        min = Math.min(min, lo);
        max = Math.max(max, hi);
        int n = to - from;
        count += n;
        if (histogram.length == 0) {
            return;
        }
        grow(Math.max(Math.abs(lo), Math.abs(hi)));
        int bins = histogram.length;
        if (upper == 0) {
            histogram[0] += n;
            zeros += n;
            return;
        }
        float perBin = (float) (bins / upper);
        int last = bins - 1;
        long[] h = histogram;
        long zero = 0;
        for (int i = from; i < to; i++) {
            float x = v[i];
            if (x == 0) {
                zero++; // counted into bin 0 at the end: after a ReLU half the values are zero, and
                continue; // incrementing one counter in memory for each would serialise the loop
            }
            int bin = (int) (Math.abs(x) * perBin);
            h[bin < last ? bin : last]++;
        }
        h[0] += zero;
        zeros += zero;
    }

    private void addChannels(float[] v, int from, int to, long base, int lastDim) {
        if (channelMin == null) {
            channelMin = new double[lastDim];
            channelMax = new double[lastDim];
            java.util.Arrays.fill(channelMin, Double.POSITIVE_INFINITY);
            java.util.Arrays.fill(channelMax, Double.NEGATIVE_INFINITY);
        } else if (channelMin.length != lastDim) {
            throw new IllegalArgumentException("changed its last axis from " + channelMin.length + " to " + lastDim);
        }
        int c = (int) (base % lastDim);
        for (int i = from; i < to; i++) {
            float x = v[i];
            if (x < channelMin[c]) {
                channelMin[c] = x;
            }
            if (x > channelMax[c]) {
                channelMax[c] = x;
            }
            if (++c == lastDim) {
                c = 0;
            }
        }
    }

    public double[] channelMin() {
        return channelMin == null ? null : channelMin.clone();
    }

    public double[] channelMax() {
        return channelMax == null ? null : channelMax.clone();
    }

    private void grow(double absMax) {
        if (absMax <= upper) {
            return;
        }
        if (upper == 0) {
            upper = absMax; // zeros seen so far sit in bin 0, which stays bin 0
            return;
        }
        int bins = histogram.length;
        while (upper < absMax) {
            for (int i = 0; i < bins / 2; i++) {
                histogram[i] = histogram[2 * i] + histogram[2 * i + 1];
            }
            java.util.Arrays.fill(histogram, bins / 2, bins, 0);
            upper *= 2;
        }
    }

    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    public long count() {
        return count;
    }

    public boolean hasHistogram() {
        return histogram.length > 0;
    }

    long[] histogram() {
        return histogram;
    }

    double upper() {
        return upper;
    }

    /** The range that holds {@code percentile} % of absolute values, within what was seen. */
    public double[] percentileRange(double percentile) {
        requireHistogram("percentile");
        if (!(percentile > 0 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + percentile);
        }
        long wanted = (long) Math.ceil(count * percentile / 100.0);
        long seen = 0;
        int bins = histogram.length;
        double threshold = upper;
        for (int i = 0; i < bins; i++) {
            seen += histogram[i];
            if (seen >= wanted) {
                threshold = (i + 1) * (upper / bins);
                break;
            }
        }
        return clip(threshold);
    }

    /**
     * The clipping threshold whose quantised histogram (into {@code levels} levels) is closest to the
     * float one in KL divergence, the method TensorRT and ONNX Runtime use for INT8 calibration.
     */
    public double[] entropyRange(int levels) {
        requireHistogram("entropy");
        int bins = histogram.length;
        if (upper == 0) {
            return new double[] {0, 0};
        }
        // exact zeros (ReLU's floor, padding) are represented exactly at any threshold; left in, their
        // mass in bin 0 would dominate the divergence and pull the threshold down
        long[] histogram = this.histogram.clone();
        histogram[0] -= Math.min(zeros, histogram[0]);
        double[] reference = new double[bins];
        double bestDivergence = Double.POSITIVE_INFINITY;
        int bestEnd = bins;
        long tail = 0;
        long[] suffix = new long[bins + 1];
        for (int i = bins - 1; i >= 0; i--) {
            suffix[i] = suffix[i + 1] + histogram[i];
        }
        double[] quantised = new double[bins];
        for (int end = levels; end <= bins; end++) {
            tail = suffix[end];
            for (int i = 0; i < end; i++) {
                reference[i] = histogram[i];
            }
            reference[end - 1] += tail; // values beyond the threshold are clipped into the last bin
            // merge the first `end` bins into `levels` groups, then spread each group's mass evenly over
            // the bins of the group that were non-empty in the original
            double groupWidth = (double) end / levels;
            for (int g = 0; g < levels; g++) {
                int from = (int) Math.floor(g * groupWidth);
                int to = g == levels - 1 ? end : (int) Math.floor((g + 1) * groupWidth);
                double mass = 0;
                int nonEmpty = 0;
                for (int i = from; i < to; i++) {
                    mass += histogram[i];
                    if (histogram[i] != 0) {
                        nonEmpty++;
                    }
                }
                for (int i = from; i < to; i++) {
                    quantised[i] = histogram[i] == 0 || nonEmpty == 0 ? 0 : mass / nonEmpty;
                }
            }
            double divergence = divergence(reference, quantised, end);
            if (divergence < bestDivergence) {
                bestDivergence = divergence;
                bestEnd = end;
            }
        }
        return clip(bestEnd * (upper / bins));
    }

    /** KL(p || q) over the first {@code n} bins, both normalised; empty q bins under p mass get a small floor. */
    private static double divergence(double[] p, double[] q, int n) {
        double pSum = 0;
        double qSum = 0;
        for (int i = 0; i < n; i++) {
            pSum += p[i];
            qSum += q[i];
        }
        if (pSum == 0 || qSum == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double floor = 1e-10;
        double kl = 0;
        for (int i = 0; i < n; i++) {
            if (p[i] == 0) {
                continue;
            }
            double pi = p[i] / pSum;
            double qi = Math.max(q[i] / qSum, floor);
            kl += pi * Math.log(pi / qi);
        }
        return kl;
    }

    private double[] clip(double threshold) {
        return new double[] {Math.max(min, -threshold), Math.min(max, threshold)};
    }

    private void requireHistogram(String method) {
        if (histogram.length == 0) {
            throw new IllegalStateException(method + " calibration needs a histogram; create the stats with bins > 0");
        }
        if (count == 0) {
            throw new IllegalStateException("no values were seen");
        }
    }
}
