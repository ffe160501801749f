package dev.anvil.modelkit.evaluate;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sums, batch by batch, what the comparison metrics of one output need, so memory stays at one batch:
 * squared error and energies, dot product, largest difference, argmax agreement, the counts of values
 * above the threshold, exact matches, and the per-sample cosine of the summary figures.
 */
final class OutputAccumulator {
    private final String output;
    private final OutputKind kind;
    private final List<ComparisonMetric> metrics;
    private final double threshold;
    private final boolean meanPool;
    private List<Object> keys;

    private long samples;
    private long values;
    private long nonFiniteCandidate;
    private long nonFiniteReference;
    private double sqErr;
    private double sqRef;
    private double sqCand;
    private double dot;
    private double maxAbs;
    private long top1Agree;
    private long top1Samples;
    private long intersection;
    private long union;
    private long candidateAbove;
    private long referenceAbove;
    private long equal;

    private double cosineSum;
    private double cosineMin = Double.POSITIVE_INFINITY;
    private long cosineDefined;
    private long bothZero;
    private long candidateZero;
    private long referenceZero;
    private long nonFiniteSamples;

    /** The per-sample cosine over this output: mean and min over the samples where it is defined. */
    record SampleCosine(Double mean, Double min, String note) {}

    OutputAccumulator(String output, OutputKind kind, List<ComparisonMetric> metrics, double threshold, boolean meanPool) {
        this.output = output;
        this.kind = kind;
        this.metrics = metrics;
        this.threshold = threshold;
        this.meanPool = meanPool;
    }

    String output() {
        return output;
    }

    OutputKind kind() {
        return kind;
    }

    /** The columns a sequence-of-maps output fixed with its first batch; null before, or for tensors. */
    List<Object> keys() {
        return keys;
    }

    /** @param mask the batch's attention mask when this output is mean pooled, else null */
    void add(OutputValues candidate, OutputValues reference, int n, long[] mask) {
        double[] cv = candidate.values();
        double[] rv = reference.values();
        if (cv.length != rv.length) {
            throw new IllegalArgumentException("the candidate's output '" + output + "' has " + cv.length
                    + " values for this batch but the reference's has " + rv.length + ": they are not the same model task");
        }
        if (keys == null) {
            keys = candidate.keys();
        }
        int per = candidate.perSample(n);
        for (int s = 0; s < n; s++) {
            double[] a;
            double[] b;
            if (meanPool) {
                int tokens = (int) candidate.shape()[1];
                int hidden = per / tokens;
                a = meanPool(cv, s * per, tokens, hidden, mask, s * tokens);
                b = meanPool(rv, s * per, tokens, hidden, mask, s * tokens);
                addSample(a, b, 0, a.length);
            } else {
                addSample(cv, rv, s * per, per);
            }
        }
        samples += n;
    }

    private void addSample(double[] a, double[] b, int offset, int length) {
        double na = 0;
        double nb = 0;
        double d = 0;
        boolean finite = true;
        int argA = -1;
        int argB = -1;
        for (int i = offset; i < offset + length; i++) {
            double x = a[i];
            double y = b[i];
            values++;
            equal += x == y ? 1 : 0;
            boolean aboveA = x > threshold;
            boolean aboveB = y > threshold;
            intersection += aboveA && aboveB ? 1 : 0;
            union += aboveA || aboveB ? 1 : 0;
            candidateAbove += aboveA ? 1 : 0;
            referenceAbove += aboveB ? 1 : 0;
            if (argA < 0 || x > a[argA]) {
                argA = i;
            }
            if (argB < 0 || y > b[argB]) {
                argB = i;
            }
            if (!Double.isFinite(x) || !Double.isFinite(y)) {
                nonFiniteCandidate += Double.isFinite(x) ? 0 : 1;
                nonFiniteReference += Double.isFinite(y) ? 0 : 1;
                finite = false;
                continue;
            }
            double diff = x - y;
            sqErr += diff * diff;
            sqRef += y * y;
            sqCand += x * x;
            dot += x * y;
            d += x * y;
            na += x * x;
            nb += y * y;
            maxAbs = Math.max(maxAbs, Math.abs(diff));
        }
        if (length >= 2) {
            top1Samples++;
            top1Agree += argA == argB ? 1 : 0;
        }
        if (!finite) {
            nonFiniteSamples++;
        } else if (na == 0 && nb == 0) {
            bothZero++;
        } else if (na == 0) {
            candidateZero++;
        } else if (nb == 0) {
            referenceZero++;
        } else {
            double cos = Math.max(-1, Math.min(1, d / Math.sqrt(na * nb)));
            cosineSum += cos;
            cosineMin = Math.min(cosineMin, cos);
            cosineDefined++;
        }
    }

    /** Mean over the tokens whose mask is 1, then L2-normalised (sentence embeddings). */
    static double[] meanPool(double[] values, int offset, int tokens, int hidden, long[] mask, int maskOffset) {
        double[] sum = new double[hidden];
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
            sum[h] /= Math.max(norm, 1e-12);
        }
        return sum;
    }

    Double relL2() {
        return samples == 0 || nonFiniteCandidate + nonFiniteReference > 0 ? null
                : Math.sqrt(sqErr) / (Math.sqrt(sqRef) + ComparisonMetric.REL_L2_EPSILON);
    }

    OutputComparison result() {
        Map<ComparisonMetric, Double> figures = new EnumMap<>(ComparisonMetric.class);
        Map<ComparisonMetric, String> reasons = new EnumMap<>(ComparisonMetric.class);
        for (ComparisonMetric metric : metrics) {
            String reason = samples == 0 ? "no sample was compared: the dataset has no samples to feed" : null;
            Double value = null;
            if (reason == null) {
                reason = nonFinite(metric);
            }
            if (reason == null) {
                switch (metric) {
                    case REL_L2 -> value = relL2();
                    case MAX_ABS -> value = maxAbs;
                    case COSINE -> {
                        if (sqRef == 0 || sqCand == 0) {
                            reason = zeroes(sqRef == 0, sqCand == 0, samples) + ": cosine is undefined; relative L2 error is "
                                    + format(relL2());
                        } else {
                            value = Math.max(-1, Math.min(1, dot / Math.sqrt(sqRef * sqCand)));
                        }
                    }
                    case SNR_DB -> {
                        if (sqRef == 0) {
                            reason = "the reference's output is all zero over " + samples(samples)
                                    + ": there is no signal, so SNR is undefined; relative L2 error is " + format(relL2());
                        } else {
                            value = sqErr == 0 ? ComparisonMetric.SNR_CAP_DB
                                    : Math.min(ComparisonMetric.SNR_CAP_DB, 10 * Math.log10(sqRef / sqErr));
                        }
                    }
                    case TOP1_AGREEMENT -> {
                        if (top1Samples == 0) {
                            reason = "top-1 agreement needs at least two scores per sample; output '" + output + "' has one";
                        } else {
                            value = (double) top1Agree / top1Samples;
                        }
                    }
                    case IOU, DICE -> {
                        if (union == 0) {
                            reason = "neither output has a value above the threshold " + java.math.BigDecimal.valueOf(threshold).stripTrailingZeros().toPlainString() + " in " + samples(samples)
                                    + ": " + (metric == ComparisonMetric.IOU ? "IoU" : "Dice")
                                    + " is undefined (nothing to overlap); relative L2 error is " + format(relL2());
                        } else {
                            value = metric == ComparisonMetric.IOU ? (double) intersection / union
                                    : 2.0 * intersection / (candidateAbove + referenceAbove);
                        }
                    }
                    case EXACT_AGREEMENT -> value = (double) equal / values;
                }
            }
            figures.put(metric, value);
            if (value == null) {
                reasons.put(metric, reason);
            }
        }
        boolean thresholded = metrics.contains(ComparisonMetric.IOU) || metrics.contains(ComparisonMetric.DICE);
        return new OutputComparison(output, kind, metrics, thresholded ? threshold : null, samples, figures, reasons, null);
    }

    private String nonFinite(ComparisonMetric metric) {
        boolean sums = metric == ComparisonMetric.REL_L2 || metric == ComparisonMetric.MAX_ABS
                || metric == ComparisonMetric.COSINE || metric == ComparisonMetric.SNR_DB;
        if (!sums || nonFiniteCandidate + nonFiniteReference == 0) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        if (nonFiniteCandidate > 0) {
            parts.add("the candidate's output holds " + nonFiniteCandidate + " NaN or infinite value(s)");
        }
        if (nonFiniteReference > 0) {
            parts.add("the reference's output holds " + nonFiniteReference + " NaN or infinite value(s)");
        }
        return String.join(" and ", parts) + ": " + metric.wireName() + " is undefined";
    }

    SampleCosine sampleCosine() {
        long undefined = samples - cosineDefined;
        if (undefined == 0) {
            return new SampleCosine(cosineSum / cosineDefined, cosineMin, null);
        }
        List<String> parts = new ArrayList<>();
        if (bothZero > 0) {
            parts.add("both outputs are all zero for " + samples(bothZero));
        }
        if (candidateZero > 0) {
            parts.add("only the candidate's output is all zero for " + samples(candidateZero));
        }
        if (referenceZero > 0) {
            parts.add("only the reference's output is all zero for " + samples(referenceZero));
        }
        if (nonFiniteSamples > 0) {
            parts.add(samples(nonFiniteSamples) + " hold NaN or infinite values");
        }
        String why = parts.isEmpty() ? "no sample was compared: the dataset has no samples to feed"
                : String.join("; ", parts) + ": cosine is undefined; relative L2 error of '" + output + "' is "
                        + format(relL2());
        if (cosineDefined == 0) {
            return new SampleCosine(null, null, why);
        }
        return new SampleCosine(cosineSum / cosineDefined, cosineMin,
                why + "; mean and min cover the other " + cosineDefined + " of " + samples + " samples");
    }

    private static String zeroes(boolean referenceZero, boolean candidateZero, long samples) {
        if (referenceZero && candidateZero) {
            return "both outputs are all zero over " + samples(samples);
        }
        return (referenceZero ? "the reference's" : "the candidate's") + " output is all zero over " + samples(samples)
                + " (the other's is not)";
    }

    static String samples(long n) {
        return n + (n == 1 ? " sample" : " samples");
    }

    static String format(Double v) {
        if (v == null) {
            return "undefined";
        }
        return v == 0 ? "0" : String.format(Locale.ROOT, "%.3g", v);
    }
}
