package dev.anvil.modelkit.quantize;

import java.util.Map;
import java.util.TreeMap;

/**
 * The activation ranges a calibration chose, saved as its own JSON artifact so later quantisations of
 * the same model can reuse them without recalibrating.
 *
 * @param format       always {@value #FORMAT}
 * @param modelSha256  the model the ranges were measured on (a table only fits that model)
 * @param method       how ranges were chosen
 * @param percentile   the percentile, for the percentile method
 * @param samples      how many samples were seen
 * @param tensors      per tensor: the range chosen and the min/max seen
 */
public record CalibrationTable(String format, String modelSha256, String method, Double percentile, long samples,
        Map<String, Range> tensors) {
    public static final String FORMAT = "anvil.calibration/v1";

    /**
     * @param channelMin per channel of the last axis, the smallest value seen (only for tensors that
     *                   activation smoothing rescales); null otherwise
     */
    public record Range(double min, double max, double seenMin, double seenMax, double[] channelMin,
            double[] channelMax) {
        public Range(double min, double max, double seenMin, double seenMax) {
            this(min, max, seenMin, seenMax, null, null);
        }
    }

    public CalibrationTable {
        tensors = new TreeMap<>(tensors);
    }
}
