package dev.anvil.activities.quantize;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How far a quantised model moved from the float one on the evaluation samples. A figure that was not
 * measured (accuracy without labels, agreement without class scores) or is not a finite number is null,
 * and the report says why: no NaN or Infinity reaches a report, a floor or a gate.
 */
record Figures(long samples, Double accuracy, Double floatAccuracy, Double accuracyDropPoints, Double top1Agreement,
        Double meanCosine, Double minCosine, double seconds) {

    /** The figures a floor can name, non-finite ones as null. */
    Map<String, Double> gated() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("top1_agreement", finite(top1Agreement));
        m.put("mean_cosine", finite(meanCosine));
        m.put("min_cosine", finite(minCosine));
        return m;
    }

    Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", samples);
        if (accuracy != null) {
            put(out, "accuracy", accuracy);
            put(out, "float_accuracy", floatAccuracy);
            put(out, "accuracy_drop_points", accuracyDropPoints);
        }
        if (top1Agreement != null) {
            put(out, "top1_agreement", top1Agreement);
        }
        put(out, "mean_cosine", meanCosine);
        put(out, "min_cosine", minCosine);
        out.put("seconds", round(seconds));
        return out;
    }

    private static void put(Map<String, Object> out, String key, Double value) {
        Double v = finite(value);
        out.put(key, v);
        if (v == null) {
            out.put(key + "_absent_reason", value == null ? "not measured for this output"
                    : "not a finite number for this output (" + value + ")");
        }
    }

    /** The value rounded to 6 decimals; null for null, NaN and the infinities. */
    static Double finite(Double v) {
        return v == null || v.isNaN() || v.isInfinite() ? null : round(v);
    }

    static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
