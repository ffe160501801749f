package dev.anvil.modelkit.evaluate;

import java.util.Arrays;
import java.util.List;

/**
 * A figure that says how far a candidate's output moved from a reference's, over all samples of a
 * dataset. Each is defined for any output of its kind; where the data leave one undefined (a cosine
 * of an all-zero output) it is null with the reason, never NaN.
 */
public enum ComparisonMetric {
    /** ||c − r||₂ / (||r||₂ + ε) over every value of every sample: 0 for identical outputs, all-zero ones included. */
    REL_L2("rel_l2"),
    /** Cosine of the candidate's and the reference's outputs as one vector (all samples concatenated). */
    COSINE("cosine"),
    /** The largest |c − r| of any value. */
    MAX_ABS("max_abs"),
    /** 10·log10(Σr² / Σ(c − r)²), capped at {@link #SNR_CAP_DB} (identical outputs). */
    SNR_DB("snr_db"),
    /** Share of samples whose highest class score is the same class. */
    TOP1_AGREEMENT("top1_agreement"),
    /** Intersection over union of the values above the threshold, over all samples. */
    IOU("iou"),
    /** Dice coefficient (2|A∩B| / (|A| + |B|)) of the values above the threshold, over all samples. */
    DICE("dice"),
    /** Share of values (labels, integers) that are exactly equal. */
    EXACT_AGREEMENT("exact_agreement");

    /** The ε of {@link #REL_L2}'s denominator. */
    public static final double REL_L2_EPSILON = 1e-12;
    /** Identical outputs have an unbounded SNR; reported as this (beyond float32's own rounding noise, ~144 dB). */
    public static final double SNR_CAP_DB = 200;
    /** The default threshold of {@link #IOU} and {@link #DICE}. */
    public static final double DEFAULT_THRESHOLD = 0.5;

    private final String wireName;

    ComparisonMetric(String wireName) {
        this.wireName = wireName;
    }

    /** The name in specs, reports and gate rules. */
    public String wireName() {
        return wireName;
    }

    public static List<String> wireNames() {
        return Arrays.stream(values()).map(ComparisonMetric::wireName).toList();
    }

    /** @throws IllegalArgumentException naming the unknown metric and the known ones */
    public static ComparisonMetric of(String name) {
        for (ComparisonMetric m : values()) {
            if (m.wireName.equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown comparison metric '" + name + "'; known metrics are " + wireNames());
    }
}
