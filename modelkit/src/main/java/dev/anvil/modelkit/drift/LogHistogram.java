package dev.anvil.modelkit.drift;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A histogram of one feature that needs no range up front: values are binned on a signed log10 scale, four bins
 * per decade from 1e-3 to 1e6 on each side, with one bin for |v| < 1e-3 and one overflow bin each way. Fixed
 * size ({@link #BINS} counters), lock-free, so the gateway keeps one per feature of every served version.
 */
public final class LogHistogram {
    static final int PER_DECADE = 4;
    static final int MIN_EXP = -3;
    static final int MAX_EXP = 6;
    static final int SIDE = (MAX_EXP - MIN_EXP) * PER_DECADE + 1; // decade bins plus overflow
    /** Counters per histogram: the negative side, the near-zero bin, the positive side. */
    public static final int BINS = 2 * SIDE + 1;

    private static final double NEAR_ZERO = Math.pow(10, MIN_EXP);

    private final AtomicLongArray counts = new AtomicLongArray(BINS);

    public void add(double value) {
        if (!Double.isNaN(value)) {
            counts.incrementAndGet(indexOf(value));
        }
    }

    /** The bin of a value: 0 is the most negative, {@code SIDE} the near-zero bin, {@code BINS − 1} the largest. */
    public static int indexOf(double value) {
        double a = Math.abs(value);
        if (a < NEAR_ZERO) {
            return SIDE;
        }
        int k = Math.min(SIDE - 1, (int) Math.floor((Math.log10(a) - MIN_EXP) * PER_DECADE));
        return value > 0 ? SIDE + 1 + k : SIDE - 1 - k;
    }

    /** The lower edge of a bin (the upper edge of the previous one); −∞ for bin 0. */
    public static double lowerEdge(int bin) {
        if (bin == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (bin == SIDE) {
            return -Math.pow(10, MIN_EXP);
        }
        if (bin == SIDE + 1) {
            return Math.pow(10, MIN_EXP);
        }
        if (bin > SIDE) {
            return Math.pow(10, MIN_EXP + (double) (bin - SIDE - 1) / PER_DECADE);
        }
        return -Math.pow(10, MIN_EXP + (double) (SIDE - bin) / PER_DECADE);
    }

    public List<Long> counts() {
        List<Long> list = new ArrayList<>(BINS);
        for (int i = 0; i < BINS; i++) {
            list.add(counts.get(i));
        }
        return list;
    }
}
