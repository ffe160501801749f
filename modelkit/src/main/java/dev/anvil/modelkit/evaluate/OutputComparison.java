package dev.anvil.modelkit.evaluate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How far one output of the candidate moved from the reference's, over every sample compared.
 * A metric that the data leave undefined (cosine of all-zero outputs, IoU where nothing passes the
 * threshold) is null in {@link #values} and has its reason in {@link #absentReasons}; no value is ever
 * NaN or infinite.
 *
 * @param metrics the metrics asked for, in order (the kind's defaults or {@code with.metrics})
 * @param threshold the IoU/Dice threshold, null when neither was asked for
 * @param note why nothing was compared (an unsupported output type), otherwise null
 */
public record OutputComparison(String output, OutputKind kind, List<ComparisonMetric> metrics, Double threshold,
                               long samples, Map<ComparisonMetric, Double> values,
                               Map<ComparisonMetric, String> absentReasons, String note) {

    public Double value(ComparisonMetric metric) {
        return values.get(metric);
    }

    /** The report's object: {@code kind}, one key per metric ({@code <metric>_absent_reason} beside a null one). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.wireName());
        m.put("samples", samples);
        for (ComparisonMetric metric : metrics) {
            m.put(metric.wireName(), values.get(metric));
            String reason = absentReasons.get(metric);
            if (reason != null) {
                m.put(metric.wireName() + "_absent_reason", reason);
            }
        }
        if (threshold != null) {
            m.put("threshold", threshold);
        }
        if (note != null) {
            m.put("note", note);
        }
        return m;
    }
}
