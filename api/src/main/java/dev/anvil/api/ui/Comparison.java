package dev.anvil.api.ui;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The candidate against production (and the input model), from a validation report: one row per
 * metric, per reference its value and the difference, marked better or worse in words and colour.
 * A latency difference no larger than the wider of the two models' interquartile ranges (the report's
 * {@code latency_ms.p25}..{@code p75}) is "within noise" and not coloured: two runs of the same model
 * differ by that much.
 *
 * @param missing references the report could not measure (a first deployment has no production model)
 * @param references the measured references, in the report's order
 */
record Comparison(List<Missing> missing, List<String> references, List<Row> rows, List<Agreement> agreements,
                  List<OutputFigures> outputs) {

    record Missing(String reference, Object note) {
    }

    record Row(String label, Double candidate, List<Cell> cells) {
    }

    /** @param diff null when either side has no value */
    record Cell(Double value, Diff diff) {
    }

    /** @param verdict "better" or "worse", null when the two are the same or differ within noise */
    record Diff(String verdict, String text) {
    }

    /** @param note why agreement or mean cosine is absent (or which samples cosine leaves out); null when none */
    record Agreement(String reference, Object agreement, Object meanCosine, Object note) {
    }

    /** One output's comparison metrics against one reference ({@code references.<ref>.outputs.<output>}). */
    record OutputFigures(String reference, String output, Object kind, List<Figure> figures, Object note) {
    }

    /** @param text the value as the page shows it, or "absent: " and the report's reason */
    record Figure(String metric, Object value, String text) {
    }

    /** The agreement rows span the candidate's column and two per reference. */
    public int agreementSpan() {
        return 1 + 2 * references.size();
    }

    /** @param spreadOf the path of the object with {@code p25} and {@code p75}, null when the metric has none */
    private record Metric(String label, String path, boolean higherIsBetter, String spreadOf) {
        Metric(String label, String path, boolean higherIsBetter) {
            this(label, path, higherIsBetter, null);
        }
    }

    private static final List<Metric> METRICS = List.of(
            new Metric("top-1 accuracy", "accuracy", true), new Metric("top-k accuracy", "top_k_accuracy", true),
            new Metric("p50 latency (ms)", "latency_ms.p50", false, "latency_ms"),
            new Metric("p95 latency (ms)", "latency_ms.p95", false, "latency_ms"),
            new Metric("p99 latency (ms)", "latency_ms.p99", false, "latency_ms"), new Metric("throughput (samples/s)", "throughput_per_s", true),
            new Metric("size (bytes)", "size_bytes", false), new Metric("session memory (bytes)", "session_memory_bytes", false));

    @SuppressWarnings("unchecked")
    static Comparison of(Map<String, Object> validation) {
        Map<String, Object> cand = (Map<String, Object>) validation.getOrDefault("candidate", Map.of());
        Map<String, Object> refs = (Map<String, Object>) validation.getOrDefault("references", Map.of());
        List<Missing> missing = new ArrayList<>();
        List<String> names = new ArrayList<>();
        refs.forEach((name, ref) -> {
            Map<String, Object> m = (Map<String, Object>) ref;
            if (Boolean.TRUE.equals(m.get("missing"))) {
                missing.add(new Missing(name, m.get("note")));
            } else {
                names.add(name);
            }
        });
        List<Row> rows = new ArrayList<>();
        for (Metric metric : METRICS) {
            Double c = number(cand, metric.path());
            List<Cell> cells = new ArrayList<>();
            for (String n : names) {
                Map<String, Object> ref = (Map<String, Object>) refs.get(n);
                Double r = number(ref, metric.path());
                Double noise = metric.spreadOf() == null ? null
                        : wider(spread(cand, metric.spreadOf()), spread(ref, metric.spreadOf()));
                cells.add(new Cell(r, diff(c, r, metric.higherIsBetter(), noise)));
            }
            rows.add(new Row(metric.label(), c, cells));
        }
        List<Agreement> agreements = new ArrayList<>();
        List<OutputFigures> outputs = new ArrayList<>();
        for (String n : names) {
            Map<String, Object> m = (Map<String, Object>) refs.get(n);
            Object note = firstOf(m, "agreement_absent_reason", "mean_cosine_absent_reason", "cosine_note");
            agreements.add(new Agreement(n, finite(m.get("agreement")), finite(m.get("mean_cosine")), note));
            if (m.get("outputs") instanceof Map<?, ?> perOutput) {
                perOutput.forEach((output, figures) -> outputs.add(outputFigures(n, (String) output, (Map<String, Object>) figures)));
            }
        }
        return new Comparison(missing, names, rows, agreements, outputs);
    }

    /** Keys of an output's object that are not metrics. */
    private static final List<String> NOT_METRICS = List.of("kind", "samples", "threshold", "note");

    private static OutputFigures outputFigures(String reference, String output, Map<String, Object> m) {
        List<Figure> figures = new ArrayList<>();
        m.forEach((key, value) -> {
            if (!NOT_METRICS.contains(key) && !key.endsWith("_absent_reason")) {
                String label = key.equals("iou") || key.equals("dice")
                        ? key + (m.get("threshold") == null ? "" : " (> " + m.get("threshold") + ")") : key;
                Object shown = finite(value);
                Object reason = m.get(key + "_absent_reason");
                figures.add(new Figure(label, shown, shown != null ? Fmt.num(shown)
                        : "absent" + (reason == null ? "" : ": " + reason)));
            }
        });
        return new OutputFigures(reference, output, m.get("kind"), figures, m.get("note"));
    }

    /** A report never holds NaN, but an old one might: show it as absent, not as "NaN". */
    private static Object finite(Object v) {
        return v instanceof Number n && !Double.isFinite(n.doubleValue()) ? null : v;
    }

    private static Object firstOf(Map<String, Object> m, String... keys) {
        for (String k : keys) {
            if (m.get(k) != null) {
                return m.get(k);
            }
        }
        return null;
    }

    /** @param noise differences up to this are noise; null when the report states no spread (older reports) */
    static Diff diff(Double c, Double r, boolean higherIsBetter, Double noise) {
        if (c == null || r == null) {
            return null;
        }
        double d = c - r;
        if (d == 0) {
            return new Diff(null, "same");
        }
        if (noise != null && Math.abs(d) <= noise) {
            return new Diff(null, (d > 0 ? "+" : "") + Fmt.num(d) + " (within noise, ±" + Fmt.num(noise) + ")");
        }
        String verdict = (higherIsBetter ? d > 0 : d < 0) ? "better" : "worse";
        return new Diff(verdict, (d > 0 ? "+" : "") + Fmt.num(d) + " (" + verdict + ")");
    }

    /** The interquartile range at {@code path}, null when the report lacks either quartile. */
    private static Double spread(Map<String, Object> doc, String path) {
        Double p25 = number(doc, path + ".p25");
        Double p75 = number(doc, path + ".p75");
        return p25 == null || p75 == null ? null : p75 - p25;
    }

    private static Double wider(Double a, Double b) {
        return a == null || b == null ? null : Math.max(a, b);
    }

    private static Double number(Map<String, Object> doc, String path) {
        Object at = doc;
        for (String part : path.split("\\.")) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            at = m.get(part);
        }
        return at instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
    }
}
