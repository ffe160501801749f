package dev.anvil.activities.quantize;

import dev.anvil.activities.operators.InvalidTaskInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a quantised model must reach on its evaluation before it is published ({@code with.floor}).
 * By default one figure by the output's kind: top-1 agreement with the float model for class scores,
 * mean cosine otherwise, each at least {@value #DEFAULT_MINIMUM}. A map states the figures instead
 * (only those are checked); {@code none} turns the check off, and the report says so.
 *
 * @param source {@code default}, {@code with.floor} or {@code none}
 * @param minimums the figures a {@code with.floor} map states (empty for the default and for none)
 */
record QuantizeFloor(String source, Map<String, Double> minimums) {
    static final double DEFAULT_MINIMUM = 0.98;
    static final List<String> FIGURES = List.of("top1_agreement", "mean_cosine", "min_cosine");
    private static final String EXAMPLE = "e.g. {top1_agreement: 0.99} or {mean_cosine: 0.95}, or none to publish"
            + " without the check";

    /** One checked figure: {@code value} null when the evaluation lacks it (then it fails, with the note). */
    record Rule(String figure, double minimum, Double value, boolean passed, String note) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("figure", figure);
            m.put("min", minimum);
            m.put("value", value);
            m.put("passed", passed);
            if (note != null) {
                m.put("note", note);
            }
            return m;
        }

        String describe() {
            return value == null ? figure + " is absent (" + note + "), floor " + minimum
                    : String.format(Locale.ROOT, "%s %.4f %s %s", figure, value, passed ? ">=" : "<", minimum);
        }
    }

    boolean disabled() {
        return source.equals("none");
    }

    static QuantizeFloor parse(Object value) {
        if (value == null) {
            return new QuantizeFloor("default", Map.of());
        }
        if (value instanceof String s && s.trim().equals("none")) {
            return new QuantizeFloor("none", Map.of());
        }
        if (!(value instanceof Map<?, ?> map) || map.isEmpty()) {
            throw new InvalidTaskInputException("quantize: with.floor must name at least one figure with its minimum, "
                    + EXAMPLE + "; got " + value);
        }
        Map<String, Double> minimums = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String figure = String.valueOf(e.getKey());
            if (!FIGURES.contains(figure)) {
                throw new InvalidTaskInputException("quantize: with.floor has unknown figure '" + figure + "'; use "
                        + String.join(", ", FIGURES) + " (" + EXAMPLE + ")");
            }
            if (!(e.getValue() instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 1)) {
                throw new InvalidTaskInputException("quantize: with.floor." + figure
                        + " must be a number from 0 to 1 (the least " + figure + " to publish), got " + e.getValue());
            }
            minimums.put(figure, n.doubleValue());
        }
        return new QuantizeFloor("with.floor", minimums);
    }

    /** The rules this floor applies to an evaluation's figures (none when disabled). */
    List<Rule> check(Map<String, Double> figures) {
        if (disabled()) {
            return List.of();
        }
        Map<String, Double> wanted = minimums;
        if (wanted.isEmpty()) {
            wanted = figures.get("top1_agreement") != null ? Map.of("top1_agreement", DEFAULT_MINIMUM)
                    : Map.of("mean_cosine", DEFAULT_MINIMUM);
        }
        List<Rule> rules = new ArrayList<>();
        wanted.forEach((figure, minimum) -> {
            Double v = figures.get(figure);
            if (v == null) {
                String why = figure.equals("top1_agreement")
                        ? "top-1 agreement needs class scores (a [batch, classes] output); use mean_cosine"
                        : "the evaluation did not measure it";
                rules.add(new Rule(figure, minimum, null, false, why));
            } else {
                rules.add(new Rule(figure, minimum, v, v >= minimum, null));
            }
        });
        return rules;
    }

    /** The report's {@code floor} object. */
    Map<String, Object> toJson(List<Rule> rules, String notCheckedReason) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", source);
        m.put("rules", rules.stream().map(Rule::toJson).toList());
        if (!disabled() && notCheckedReason != null) {
            m.put("not_checked_reason", notCheckedReason);
        }
        m.put("passed", disabled() || notCheckedReason != null ? null : rules.stream().allMatch(Rule::passed));
        return m;
    }
}
