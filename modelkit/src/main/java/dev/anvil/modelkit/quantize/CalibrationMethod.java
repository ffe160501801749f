package dev.anvil.modelkit.quantize;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How an activation's range is chosen from what calibration saw. */
public enum CalibrationMethod {
    /** The smallest and largest values seen. */
    MINMAX,
    /** Clips the rarest values: the range holds the given percentile of absolute values (e.g. 99.999). */
    PERCENTILE,
    /** The clipping threshold that minimises the KL divergence between the float and quantised histograms. */
    ENTROPY;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CalibrationMethod parse(String text) {
        for (CalibrationMethod m : values()) {
            if (m.wireName().equals(text)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown calibration method '" + text + "'; use one of "
                + Arrays.stream(values()).map(CalibrationMethod::wireName).collect(Collectors.joining(", ")));
    }
}
