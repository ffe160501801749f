package dev.anvil.api.ui;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The candidate against production (and the input model), from a validation report: one row per
 * metric, per reference its value and the difference, marked better or worse in words and colour.
 *
 * @param missing references the report could not measure (a first deployment has no production model)
 * @param references the measured references, in the report's order
 */
record Comparison(List<Missing> missing, List<String> references, List<Row> rows, List<Agreement> agreements) {

    record Missing(String reference, Object note) {
    }

    record Row(String label, Double candidate, List<Cell> cells) {
    }

    /** @param diff null when either side has no value */
    record Cell(Double value, Diff diff) {
    }

    /** @param verdict "better" or "worse", null when the two are the same */
    record Diff(String verdict, String text) {
    }

    record Agreement(String reference, Object agreement, Object meanCosine) {
    }

    /** The agreement rows span the candidate's column and two per reference. */
    public int agreementSpan() {
        return 1 + 2 * references.size();
    }

    private record Metric(String label, String path, boolean higherIsBetter) {
    }

    private static final List<Metric> METRICS = List.of(
            new Metric("top-1 accuracy", "accuracy", true), new Metric("top-k accuracy", "top_k_accuracy", true),
            new Metric("p50 latency (ms)", "latency_ms.p50", false), new Metric("p95 latency (ms)", "latency_ms.p95", false),
            new Metric("p99 latency (ms)", "latency_ms.p99", false), new Metric("throughput (samples/s)", "throughput_per_s", true),
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
                Double r = number((Map<String, Object>) refs.get(n), metric.path());
                cells.add(new Cell(r, diff(c, r, metric.higherIsBetter())));
            }
            rows.add(new Row(metric.label(), c, cells));
        }
        List<Agreement> agreements = new ArrayList<>();
        for (String n : names) {
            Map<String, Object> m = (Map<String, Object>) refs.get(n);
            agreements.add(new Agreement(n, m.get("agreement"), m.get("mean_cosine")));
        }
        return new Comparison(missing, names, rows, agreements);
    }

    private static Diff diff(Double c, Double r, boolean higherIsBetter) {
        if (c == null || r == null) {
            return null;
        }
        double d = c - r;
        if (d == 0) {
            return new Diff(null, "same");
        }
        String verdict = (higherIsBetter ? d > 0 : d < 0) ? "better" : "worse";
        return new Diff(verdict, (d > 0 ? "+" : "") + Fmt.num(d) + " (" + verdict + ")");
    }

    private static Double number(Map<String, Object> doc, String path) {
        Object at = doc;
        for (String part : path.split("\\.")) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            at = m.get(part);
        }
        return at instanceof Number n ? n.doubleValue() : null;
    }
}
