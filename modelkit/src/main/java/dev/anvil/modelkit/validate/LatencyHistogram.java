package dev.anvil.modelkit.validate;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;

/**
 * Latency per batch as counts over fixed, log-spaced buckets: ten per decade, edges 10^(i/10) ms
 * rounded to four significant digits. Every model in every report shares these edges, so the
 * candidate's and the references' histograms line up on one axis (the reviewer UI draws them
 * together). Only the span from the first to the last non-empty bucket is kept: a few dozen numbers
 * whatever the number of batches. Bucket {@code i} holds [edges[i], edges[i+1]); values below 1 µs
 * count in the lowest bucket and values above 10^6 ms in the highest.
 *
 * @param edgesMs bucket edges in milliseconds, ascending, one more than {@code counts}
 * @param counts batches per bucket
 */
public record LatencyHistogram(List<Double> edgesMs, List<Long> counts) {
    static final int PER_DECADE = 10;
    /** Index of the lowest edge: 10^(-30/10) ms = 1 µs. */
    static final int LOWEST = -30;
    /** Index of the highest edge: 10^(60/10) ms, about 17 minutes per batch. */
    static final int HIGHEST = 60;

    public LatencyHistogram {
        edgesMs = List.copyOf(edgesMs);
        counts = List.copyOf(counts);
        if (edgesMs.size() != counts.size() + 1) {
            throw new IllegalArgumentException("a histogram needs one more edge than counts, got " + edgesMs.size()
                    + " edges and " + counts.size() + " counts");
        }
    }

    /** The histogram of these latencies, or null when there are none (no batch was timed). */
    public static LatencyHistogram of(List<Double> millis) {
        if (millis.isEmpty()) {
            return null;
        }
        long[] all = new long[HIGHEST - LOWEST];
        for (double ms : millis) {
            all[bucket(ms) - LOWEST]++;
        }
        int first = 0;
        while (all[first] == 0) {
            first++;
        }
        int last = all.length - 1;
        while (all[last] == 0) {
            last--;
        }
        List<Double> edges = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        for (int i = first; i <= last; i++) {
            edges.add(edge(LOWEST + i));
            counts.add(all[i]);
        }
        edges.add(edge(LOWEST + last + 1));
        return new LatencyHistogram(edges, counts);
    }

    /** The lower edge of bucket {@code i}, in ms: 10^(i/10) to four significant digits. */
    static double edge(int i) {
        return new BigDecimal(Math.pow(10, (double) i / PER_DECADE)).round(new MathContext(4)).doubleValue();
    }

    /** The bucket a latency falls in, decided against the published (rounded) edges, clamped to the range. */
    static int bucket(double ms) {
        if (!(ms > edge(LOWEST))) {
            return LOWEST;
        }
        int i = (int) Math.floor(Math.log10(ms) * PER_DECADE);
        // log10 and the rounding of edges can put a value one bucket off near an edge; the edges decide
        while (i > LOWEST && ms < edge(i)) {
            i--;
        }
        while (i < HIGHEST - 1 && ms >= edge(i + 1)) {
            i++;
        }
        return Math.max(LOWEST, Math.min(HIGHEST - 1, i));
    }

    public long total() {
        return counts.stream().mapToLong(Long::longValue).sum();
    }
}
