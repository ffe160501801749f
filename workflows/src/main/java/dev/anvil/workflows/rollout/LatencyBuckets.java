package dev.anvil.workflows.rollout;

import java.util.List;

/**
 * The gateway's latency histogram bounds, shared by the gateway (which counts into them) and the
 * rollout analysis (which reads percentiles from them). Bucket i counts latencies at most
 * {@code upperMicros(i)}; the last bucket is unbounded.
 */
public final class LatencyBuckets {
    /** Upper bounds in microseconds, about 19 % apart from 50 µs to 60 s, then +Inf. */
    public static final List<Long> UPPER_MICROS = bounds();

    private LatencyBuckets() {
    }

    public static int count() {
        return UPPER_MICROS.size() + 1;
    }

    /** The bucket a latency falls in. */
    public static int indexOf(long micros) {
        int lo = 0;
        int hi = UPPER_MICROS.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (UPPER_MICROS.get(mid) >= micros) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /**
     * The q-quantile (0..1) of a histogram, as the upper bound of the bucket where it falls (the
     * last finite bound for the overflow bucket), or -1 for an empty histogram.
     */
    public static long quantileMicros(List<Long> counts, double q) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0) {
            return -1;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.size(); i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return UPPER_MICROS.get(Math.min(i, UPPER_MICROS.size() - 1));
            }
        }
        return UPPER_MICROS.get(UPPER_MICROS.size() - 1);
    }

    private static List<Long> bounds() {
        java.util.ArrayList<Long> bounds = new java.util.ArrayList<>();
        double b = 50;
        while (b <= 60_000_000) {
            long rounded = Math.round(b);
            if (bounds.isEmpty() || bounds.get(bounds.size() - 1) != rounded) {
                bounds.add(rounded);
            }
            b *= 1.19;
        }
        return List.copyOf(bounds);
    }
}
