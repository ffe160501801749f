package dev.anvil.modelkit.gate;

import dev.anvil.modelkit.evaluate.ComparisonMetric;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gate's {@code require} block checked against a validation report ({@code anvil.validation/v1}).
 * Every rule is evaluated and reported (value, threshold, pass/fail); nothing stops at the first
 * failure. Rules:
 * <ul>
 *   <li>a metric with a comparison: {@code accuracy: ">= 0.985"}; metrics are {@link #METRICS};</li>
 *   <li>{@code accuracy_drop_vs: {model: production, max: 0.005}}: reference accuracy minus candidate accuracy;</li>
 *   <li>{@code size_ratio_vs: {model: input, max: 0.3}}: candidate size over reference size;</li>
 *   <li>{@code latency_ratio_vs: {model: M, max: r}}: candidate p95 over reference p95;</li>
 *   <li>{@code agreement_vs: {model: M, min: a}} and {@code cosine_vs: {model: M, min: c}} (mean cosine);</li>
 *   <li>a path into the report with a comparison, for any figure it holds, such as the per-output
 *       comparison metrics: {@code references.input.outputs.output_probs.rel_l2: "<= 0.01"} or
 *       {@code candidate.latency_ms.p99: "<= 20"} ({@link #PATH_ROOTS}). An output name may hold dots.</li>
 * </ul>
 * A figure the report holds as null fails its rule with the report's reason ({@code "p95_latency_ms is
 * absent: ..."}): a figure that was never measured never passes a bound.
 * A comparison with a reference the report marks missing (no model holds the alias yet) passes with
 * the report's note: the first deployment has nothing to be worse than.
 */
public final class GatePolicy {
    public static final Map<String, String> METRICS = new LinkedHashMap<>();
    public static final List<String> COMPARISONS = List.of("accuracy_drop_vs", "size_ratio_vs", "latency_ratio_vs",
            "agreement_vs", "cosine_vs");
    /** A rule whose name starts with one of these is a path into the report. */
    public static final List<String> PATH_ROOTS = List.of("candidate.", "references.");
    private static final Pattern CONDITION = Pattern.compile("\\s*(>=|<=|==|>|<)\\s*(-?[0-9.]+(?:[eE]-?[0-9]+)?)\\s*");

    static {
        METRICS.put("accuracy", "candidate.accuracy");
        METRICS.put("top_k_accuracy", "candidate.top_k_accuracy");
        METRICS.put("p50_latency_ms", "candidate.latency_ms.p50");
        METRICS.put("p95_latency_ms", "candidate.latency_ms.p95");
        METRICS.put("p99_latency_ms", "candidate.latency_ms.p99");
        METRICS.put("throughput_per_s", "candidate.throughput_per_s");
        METRICS.put("size_bytes", "candidate.size_bytes");
        METRICS.put("size_mb", "candidate.size_bytes/1e6");
        METRICS.put("session_memory_bytes", "candidate.session_memory_bytes");
    }

    /** One rule's outcome. {@code value} is null when the report lacks it (then it fails, unless noted). */
    public record RuleResult(String rule, Double value, String threshold, boolean passed, String note) {}

    public record Outcome(List<RuleResult> rules) {
        public boolean passed() {
            return rules.stream().allMatch(RuleResult::passed);
        }

        public List<RuleResult> failed() {
            return rules.stream().filter(r -> !r.passed()).toList();
        }

        /** The failed rules as a plain-text table, for the task's error message. */
        public String failureTable() {
            StringBuilder out = new StringBuilder();
            out.append("gate failed: ").append(failed().size()).append(" of ").append(rules.size()).append(" rule(s) failed\n");
            out.append(String.format(Locale.ROOT, "%-22s %-14s %-16s %s%n", "rule", "value", "threshold", "result"));
            for (RuleResult r : failed()) {
                out.append(String.format(Locale.ROOT, "%-22s %-14s %-16s %s%n", r.rule(), format(r.value()), r.threshold(),
                        "FAIL" + (r.note() == null ? "" : " (" + r.note() + ")")));
            }
            return out.toString().stripTrailing();
        }
    }

    private GatePolicy() {
    }

    /** Checks the rules; a malformed rule throws {@link IllegalArgumentException} naming it and the fix. */
    public static Outcome check(Map<String, Object> require, Map<String, Object> report) {
        if (require == null || require.isEmpty()) {
            throw new IllegalArgumentException("with.require must hold at least one rule, e.g. {accuracy: \">= 0.98\"}; rules are "
                    + METRICS.keySet() + " and " + COMPARISONS);
        }
        List<RuleResult> results = new ArrayList<>();
        for (Map.Entry<String, Object> rule : require.entrySet()) {
            String name = rule.getKey();
            if (METRICS.containsKey(name)) {
                results.add(metricRule(name, rule.getValue(), report));
            } else if (COMPARISONS.contains(name)) {
                results.add(comparisonRule(name, rule.getValue(), report));
            } else if (PATH_ROOTS.stream().anyMatch(name::startsWith)) {
                results.add(pathRule(name, rule.getValue(), report));
            } else {
                throw new IllegalArgumentException("unknown gate rule '" + name + "'; known rules are " + METRICS.keySet()
                        + ", " + COMPARISONS + " and paths into the report starting with " + PATH_ROOTS
                        + " (e.g. references.input.outputs.<output>.rel_l2)");
            }
        }
        return new Outcome(results);
    }

    private static RuleResult metricRule(String name, Object condition, Map<String, Object> report) {
        Matcher m = condition instanceof String s ? CONDITION.matcher(s) : null;
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("gate rule '" + name + "' must be a comparison such as \">= 0.985\" or \"<= 5\", got "
                    + condition);
        }
        String op = m.group(1);
        double threshold = Double.parseDouble(m.group(2));
        String path = METRICS.get(name);
        Double value;
        if (path.endsWith("/1e6")) {
            Double bytes = number(report, path.substring(0, path.length() - 4));
            value = bytes == null ? null : bytes / 1e6;
        } else {
            value = number(report, path);
        }
        if (value == null) {
            String figure = path.endsWith("/1e6") ? path.substring(0, path.length() - 4) : path;
            String reason = absentReason(report, figure);
            return new RuleResult(name, null, op + " " + m.group(2), false, reason != null
                    ? name + " is absent: " + reason
                    : "the report has no " + path + " (accuracy needs class-score outputs and a labelled dataset)");
        }
        boolean passed = switch (op) {
            case ">=" -> value >= threshold;
            case "<=" -> value <= threshold;
            case ">" -> value > threshold;
            case "<" -> value < threshold;
            default -> value == threshold;
        };
        return new RuleResult(name, value, op + " " + m.group(2), passed, null);
    }

    /** A rule on any figure of the report, addressed by its path. */
    @SuppressWarnings("unchecked")
    private static RuleResult pathRule(String name, Object condition, Map<String, Object> report) {
        Matcher m = condition instanceof String s ? CONDITION.matcher(s) : null;
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("gate rule '" + name + "' must be a comparison such as \">= 0.985\" or \"<= 0.01\", got "
                    + condition);
        }
        String threshold = m.group(1) + " " + m.group(2);
        if (name.startsWith("references.")) {
            Map<String, Object> refs = report.get("references") instanceof Map<?, ?> r ? (Map<String, Object>) r : Map.of();
            String rest = name.substring("references.".length());
            String model = refs.keySet().stream().filter(k -> rest.startsWith(k + ".")).findFirst().orElse(null);
            if (model == null) {
                throw new IllegalArgumentException("gate rule '" + name + "' names a reference the validation report does not have (it has "
                        + refs.keySet() + "); give validate 'reference' (reported as input) or 'registry_model'");
            }
            if (refs.get(model) instanceof Map<?, ?> ref && Boolean.TRUE.equals(ref.get("missing"))) {
                return new RuleResult(name, null, threshold, true, "passed: " + ref.get("note"));
            }
        }
        Located at = locate(report, name);
        Double value = at.value() instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
        if (value == null) {
            String reason = reasonIn(at.holder(), at.key());
            String note;
            if (reason != null) {
                note = at.key() + " is absent: " + reason;
            } else if (at.holder().containsKey(at.key())) {
                note = "the report holds " + name + " as " + at.value() + ", not a number";
            } else {
                note = "the report has no " + name + "; check the path against the report"
                        + (name.contains(".outputs.") ? " (outputs.<output name>.<metric>; metrics are "
                                + ComparisonMetric.wireNames() + ", reported as each output's with.metrics asks)" : "");
            }
            return new RuleResult(name, null, threshold, false, note);
        }
        return new RuleResult(name, value, threshold, compare(m.group(1), value, Double.parseDouble(m.group(2))), null);
    }

    /** Where a dotted path ends: the map holding the last key (keys may themselves hold dots, as output names do). */
    private record Located(Map<String, Object> holder, String key, Object value) {}

    @SuppressWarnings("unchecked")
    private static Located locate(Map<String, Object> doc, String path) {
        if (doc.containsKey(path)) {
            return new Located(doc, path, doc.get(path));
        }
        String best = null;
        for (String key : doc.keySet()) {
            if (path.startsWith(key + ".") && doc.get(key) instanceof Map<?, ?> && (best == null || key.length() > best.length())) {
                best = key;
            }
        }
        return best == null ? new Located(doc, path, null)
                : locate((Map<String, Object>) doc.get(best), path.substring(best.length() + 1));
    }

    private static String reasonIn(Map<String, Object> holder, String key) {
        Object own = holder.get(key + "_absent_reason");
        Object shared = holder.get("absent_reason");
        Object note = holder.get("note");
        return own instanceof String s ? s : shared instanceof String s ? s : note instanceof String s ? s : null;
    }

    private static boolean compare(String op, double value, double threshold) {
        return switch (op) {
            case ">=" -> value >= threshold;
            case "<=" -> value <= threshold;
            case ">" -> value > threshold;
            case "<" -> value < threshold;
            default -> value == threshold;
        };
    }

    @SuppressWarnings("unchecked")
    private static RuleResult comparisonRule(String name, Object spec, Map<String, Object> report) {
        boolean wantsMin = name.equals("agreement_vs") || name.equals("cosine_vs");
        String bound = wantsMin ? "min" : "max";
        if (!(spec instanceof Map<?, ?> map) || !(map.get("model") instanceof String model)
                || !(map.get(bound) instanceof Number limitNumber)) {
            throw new IllegalArgumentException("gate rule '" + name + "' must be {model: <reference>, " + bound
                    + ": <number>}, e.g. {model: production, " + bound + ": " + (wantsMin ? "0.99" : "0.005") + "}; got " + spec);
        }
        double limit = limitNumber.doubleValue();
        String threshold = (wantsMin ? ">= " : "<= ") + limitNumber + " vs " + model;
        Map<String, Object> refs = report.get("references") instanceof Map<?, ?> r ? (Map<String, Object>) r : Map.of();
        if (!(refs.get(model) instanceof Map<?, ?> refMap)) {
            throw new IllegalArgumentException("gate rule '" + name + "' compares with '" + model
                    + "' but the validation report has no such reference (it has " + refs.keySet()
                    + "); give validate 'reference' (reported as input) or 'registry_model'");
        }
        Map<String, Object> ref = (Map<String, Object>) refMap;
        if (Boolean.TRUE.equals(ref.get("missing"))) {
            return new RuleResult(name, null, threshold, true, "passed: " + ref.get("note"));
        }
        Double value = switch (name) {
            case "accuracy_drop_vs" -> diff(number(ref, "accuracy"), number(report, "candidate.accuracy"));
            case "size_ratio_vs" -> ratio(number(report, "candidate.size_bytes"), number(ref, "size_bytes"));
            case "latency_ratio_vs" -> ratio(number(report, "candidate.latency_ms.p95"), number(ref, "latency_ms.p95"));
            case "agreement_vs" -> number(ref, "agreement");
            default -> number(ref, "mean_cosine");
        };
        if (value == null) {
            String reason = switch (name) {
                case "latency_ratio_vs" -> latencyAbsence(report, ref, model);
                case "agreement_vs" -> prefixed("agreement", absentReason(ref, "agreement"));
                case "cosine_vs" -> prefixed("mean_cosine", absentReason(ref, "mean_cosine"));
                case "accuracy_drop_vs" -> absentReason(ref, "accuracy") != null
                        ? model + "'s accuracy is absent: " + absentReason(ref, "accuracy")
                        : prefixed("the candidate's accuracy", absentReason(report, "candidate.accuracy"));
                default -> null;
            };
            return new RuleResult(name, null, threshold, false, reason != null ? reason
                    : "the report lacks the figures for this rule");
        }
        return new RuleResult(name, value, threshold, wantsMin ? value >= limit : value <= limit, null);
    }

    private static String prefixed(String figure, String reason) {
        return reason == null ? null : figure + " is absent: " + reason;
    }

    private static String latencyAbsence(Map<String, Object> report, Map<String, Object> ref, String model) {
        String candidate = absentReason(report, "candidate.latency_ms.p95");
        if (candidate != null) {
            return "the candidate's p95 latency is absent: " + candidate;
        }
        String reference = absentReason(ref, "latency_ms.p95");
        return reference == null ? null : model + "'s p95 latency is absent: " + reference;
    }

    /**
     * Why the report holds no figure at {@code path}: a sibling {@code <figure>_absent_reason}, or the
     * enclosing object's {@code absent_reason}; null when the report gives none.
     */
    @SuppressWarnings("unchecked")
    static String absentReason(Map<String, Object> doc, String path) {
        int dot = path.lastIndexOf('.');
        String leaf = path.substring(dot + 1);
        Object parent = doc;
        if (dot >= 0) {
            for (String part : path.substring(0, dot).split("\\.")) {
                if (!(parent instanceof Map<?, ?> m)) {
                    return null;
                }
                parent = ((Map<String, Object>) m).get(part);
            }
        }
        if (!(parent instanceof Map<?, ?> holder)) {
            return null;
        }
        Object own = holder.get(leaf + "_absent_reason");
        Object shared = holder.get("absent_reason");
        return own instanceof String s ? s : shared instanceof String s ? s : null;
    }

    private static Double diff(Double a, Double b) {
        return a == null || b == null ? null : a - b;
    }

    private static Double ratio(Double a, Double b) {
        return a == null || b == null || b == 0 ? null : a / b;
    }

    @SuppressWarnings("unchecked")
    static Double number(Map<String, Object> doc, String path) {
        Object at = doc;
        for (String part : path.split("\\.")) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            at = ((Map<String, Object>) m).get(part);
        }
        // a NaN or infinity (a report written before the guard) is no figure: it must never pass a bound
        return at instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
    }

    static String format(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.4g", v);
    }
}
