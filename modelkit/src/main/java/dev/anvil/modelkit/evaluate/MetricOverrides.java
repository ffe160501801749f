package dev.anvil.modelkit.evaluate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The comparison metrics a spec asks for per output ({@code with.metrics}), instead of the defaults of
 * each output's {@link OutputKind}:
 * <pre>
 * metrics:
 *   output_probs: [rel_l2, iou]                              # a list of metric names
 *   boxes: {metrics: [iou, dice, max_abs], threshold: 0.3}   # or with the IoU/Dice threshold
 * </pre>
 *
 * @param byOutput per output name; outputs not named keep their kind's defaults
 */
public record MetricOverrides(Map<String, Choice> byOutput) {
    public static final MetricOverrides NONE = new MetricOverrides(Map.of());

    /** @param metrics null to keep the kind's defaults (only the threshold given) */
    public record Choice(List<ComparisonMetric> metrics, double threshold) {}

    /**
     * Reads {@code with.metrics}; null means none.
     *
     * @throws IllegalArgumentException naming the entry at fault and what is allowed
     */
    public static MetricOverrides parse(Object spec) {
        if (spec == null) {
            return NONE;
        }
        if (!(spec instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("with.metrics must map output names to metric lists, e.g. "
                    + "{output_probs: [rel_l2, iou]} or {output_probs: {metrics: [iou, dice], threshold: 0.3}}; got " + spec);
        }
        Map<String, Choice> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String output = String.valueOf(e.getKey());
            Object value = e.getValue();
            Object names = value;
            double threshold = ComparisonMetric.DEFAULT_THRESHOLD;
            if (value instanceof Map<?, ?> m) {
                for (Object key : m.keySet()) {
                    if (!"metrics".equals(key) && !"threshold".equals(key)) {
                        throw new IllegalArgumentException("with.metrics." + output + " has an unknown field '" + key
                                + "'; allowed fields are [metrics, threshold]");
                    }
                }
                names = m.get("metrics");
                Object t = m.get("threshold");
                if (t != null) {
                    if (!(t instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                        throw new IllegalArgumentException("with.metrics." + output + ".threshold must be a number, got " + t);
                    }
                    threshold = n.doubleValue();
                }
            }
            out.put(output, new Choice(names == null ? null : metrics(output, names), threshold));
        }
        return new MetricOverrides(out);
    }

    private static List<ComparisonMetric> metrics(String output, Object names) {
        if (!(names instanceof Collection<?> list) || list.isEmpty()) {
            throw new IllegalArgumentException("with.metrics." + output + " must be a non-empty list of metric names from "
                    + ComparisonMetric.wireNames() + ", got " + names);
        }
        List<ComparisonMetric> metrics = new ArrayList<>();
        for (Object name : list) {
            try {
                ComparisonMetric m = ComparisonMetric.of(String.valueOf(name));
                if (!metrics.contains(m)) {
                    metrics.add(m);
                }
            } catch (IllegalArgumentException unknown) {
                throw new IllegalArgumentException("with.metrics." + output + " names an unknown metric '" + name
                        + "'; allowed metrics are " + ComparisonMetric.wireNames());
            }
        }
        return List.copyOf(metrics);
    }

    /** @throws IllegalArgumentException when an override names an output the models do not have */
    public void checkOutputs(Collection<String> outputs) {
        for (String name : byOutput.keySet()) {
            if (!outputs.contains(name)) {
                throw new IllegalArgumentException("with.metrics names output '" + name + "' but the models' outputs are "
                        + outputs + "; use one of those names");
            }
        }
    }

    public List<ComparisonMetric> metricsFor(String output, OutputKind kind) {
        Choice c = byOutput.get(output);
        return c == null || c.metrics() == null ? kind.defaults() : c.metrics();
    }

    public double thresholdFor(String output) {
        Choice c = byOutput.get(output);
        return c == null ? ComparisonMetric.DEFAULT_THRESHOLD : c.threshold();
    }
}
