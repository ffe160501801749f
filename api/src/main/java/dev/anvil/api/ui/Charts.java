package dev.anvil.api.ui;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.qute.RawString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The approval page's charts (the {@code charts} fragment of approval.html), drawn in the browser by
 * {@code /ui/charts.js}: latency per batch of the candidate against its references, and the candidate's
 * confusion matrix. Each has a hidden {@code <figure>} the script fills, the data as embedded JSON, and
 * the same figures as tables in an open {@code <details>}, which the script folds once it has drawn the
 * chart. Without JavaScript, or for a report written before latency histograms existed, the tables are
 * the page.
 *
 * @param confusion null when the report has no square confusion matrix
 */
record Charts(Latency latency, Confusion confusion) {

    /**
     * @param data the chart's JSON, null when the report has no histograms (then: tables only)
     * @param models the columns of the percentile table: the candidate, then each measured reference
     * @param series the columns of the bucket table: the models with a histogram
     */
    record Latency(RawString data, List<String> models, List<Percentile> percentiles, List<String> series, List<Bucket> buckets) {
    }

    record Percentile(String name, List<Object> values) {
    }

    /** Batches per model in the bucket from..to (the models share bucket edges). */
    record Bucket(double from, double to, List<Number> counts) {
    }

    record Confusion(RawString data, List<String> labels, List<ConfusionRow> rows) {
    }

    record ConfusionRow(String label, List<Cell> cells) {
    }

    /**
     * @param shade the cell's shade class (style.css's td.shade-0 .. td.shade-12, opacity 0 .. 0.6 in steps of
     *              0.05): the count as a share of the largest count. A class, not a style attribute, because the
     *              pages' Content-Security-Policy refuses inline styles.
     */
    record Cell(long count, int shade) {
    }

    /** The darkest confusion-cell shade class. */
    static final int SHADES = 12;

    static Charts of(Map<String, Object> validation, ObjectMapper json) {
        return new Charts(latency(validation, json), confusion(validation, json));
    }

    /** Latency per batch: the chart's data (when the report has histograms) and the percentiles and buckets as tables. */
    static Latency latency(Map<String, Object> validation, ObjectMapper json) {
        Map<String, Map<String, Object>> models = measuredModels(validation);
        List<Percentile> percentiles = new ArrayList<>();
        for (String p : List.of("p50", "p95", "p99", "mean")) {
            percentiles.add(new Percentile(p, models.values().stream().map(m -> latencyOf(m).get(p)).toList()));
        }
        Optional<Map<String, Object>> data = latencyData(models);
        if (data.isEmpty()) {
            return new Latency(null, List.copyOf(models.keySet()), percentiles, List.of(), List.of());
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> series = (List<Map<String, Object>>) data.get().get("series");
        return new Latency(scriptJson(data.get(), json), List.copyOf(models.keySet()), percentiles,
                series.stream().map(s -> (String) s.get("name")).toList(), buckets(series));
    }

    /** The candidate's confusion matrix with its labels and shades; null when the report has none. */
    @SuppressWarnings("unchecked")
    static Confusion confusion(Map<String, Object> validation, ObjectMapper json) {
        Optional<Map<String, Object>> data = confusionData(validation);
        if (data.isEmpty()) {
            return null;
        }
        List<String> labels = (List<String>) data.get().get("labels");
        List<List<Long>> matrix = (List<List<Long>>) data.get().get("matrix");
        long max = Math.max(1, matrix.stream().flatMap(List::stream).mapToLong(Long::longValue).max().orElse(1));
        List<ConfusionRow> rows = new ArrayList<>();
        for (int i = 0; i < matrix.size(); i++) {
            rows.add(new ConfusionRow(labels.get(i), matrix.get(i).stream()
                    .map(n -> new Cell(n, (int) Math.round(SHADES * n / (double) max))).toList()));
        }
        return new Confusion(scriptJson(data.get(), json), labels, rows);
    }

    /** The candidate, then each reference the report measured (a missing production model is not one). */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> measuredModels(Map<String, Object> validation) {
        Map<String, Map<String, Object>> models = new LinkedHashMap<>();
        if (validation.get("candidate") instanceof Map<?, ?> c) {
            models.put("candidate", (Map<String, Object>) c);
        }
        if (validation.get("references") instanceof Map<?, ?> refs) {
            refs.forEach((name, ref) -> {
                if (ref instanceof Map<?, ?> m && !Boolean.TRUE.equals(m.get("missing"))) {
                    models.put(String.valueOf(name), (Map<String, Object>) m);
                }
            });
        }
        return models;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> latencyOf(Map<String, Object> model) {
        return model.get("latency_ms") instanceof Map<?, ?> l ? (Map<String, Object>) l : Map.of();
    }

    /**
     * The latency chart's data: per model its histogram (edges and counts, as the report has them) and
     * percentiles. Models without a histogram are left out; without the candidate's there is no chart.
     */
    static Optional<Map<String, Object>> latencyData(Map<String, Map<String, Object>> models) {
        List<Map<String, Object>> series = new ArrayList<>();
        models.forEach((name, m) -> {
            Map<String, Object> latency = latencyOf(m);
            if (latency.get("histogram") instanceof Map<?, ?> h && h.get("edges") instanceof List<?> edges
                    && h.get("counts") instanceof List<?> counts && edges.size() == counts.size() + 1
                    && edges.stream().allMatch(e -> e instanceof Number) && counts.stream().allMatch(c -> c instanceof Number)) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("name", name);
                s.put("edges", edges);
                s.put("counts", counts);
                for (String p : List.of("p50", "p95", "p99")) {
                    s.put(p, latency.get(p) instanceof Number n ? n : null);
                }
                series.add(s);
            }
        });
        if (series.isEmpty() || !series.get(0).get("name").equals("candidate")) {
            return Optional.empty();
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("unit", "ms");
        data.put("series", series);
        return Optional.of(data);
    }

    /** The histograms as table rows: one per bucket that any model has batches in (they share bucket edges). */
    @SuppressWarnings("unchecked")
    private static List<Bucket> buckets(List<Map<String, Object>> series) {
        TreeMap<Double, Double> upper = new TreeMap<>();
        List<Map<Double, Number>> countsByLower = new ArrayList<>();
        for (Map<String, Object> s : series) {
            List<Number> edges = (List<Number>) s.get("edges");
            List<Number> counts = (List<Number>) s.get("counts");
            Map<Double, Number> byLower = new LinkedHashMap<>();
            for (int i = 0; i < counts.size(); i++) {
                if (counts.get(i).longValue() > 0) {
                    upper.put(edges.get(i).doubleValue(), edges.get(i + 1).doubleValue());
                    byLower.put(edges.get(i).doubleValue(), counts.get(i));
                }
            }
            countsByLower.add(byLower);
        }
        List<Bucket> rows = new ArrayList<>();
        upper.forEach((from, to) -> rows.add(new Bucket(from, to, countsByLower.stream().map(c -> c.getOrDefault(from, 0)).toList())));
        return rows;
    }

    /** The candidate's confusion matrix with one label per class (from per_class, else the index), if it has one. */
    @SuppressWarnings("unchecked")
    static Optional<Map<String, Object>> confusionData(Map<String, Object> validation) {
        if (!(validation.get("candidate") instanceof Map<?, ?> cand) || !(cand.get("confusion_matrix") instanceof List<?> rows)
                || rows.isEmpty()) {
            return Optional.empty();
        }
        List<List<Long>> matrix = new ArrayList<>();
        for (Object row : rows) {
            if (!(row instanceof List<?> cells) || cells.size() != rows.size()) {
                return Optional.empty();
            }
            List<Long> counts = new ArrayList<>();
            for (Object x : cells) {
                if (!(x instanceof Number n)) {
                    return Optional.empty();
                }
                counts.add(n.longValue());
            }
            matrix.add(counts);
        }
        List<String> labels = new ArrayList<>();
        List<Object> perClass = cand.get("per_class") instanceof List<?> l ? (List<Object>) l : List.of();
        for (int i = 0; i < matrix.size(); i++) {
            Object label = i < perClass.size() && perClass.get(i) instanceof Map<?, ?> c ? c.get("class") : null;
            labels.add(label == null ? String.valueOf(i) : String.valueOf(label));
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("labels", labels);
        data.put("matrix", matrix);
        return Optional.of(data);
    }

    /**
     * Data for the chart script, to go unescaped into a {@code <script type="application/json">} element
     * (HTML escaping would not be undone there and would break the JSON). Safe because {@code <},
     * {@code >} and {@code &} (which only occur inside strings in JSON) become \\u escapes, so
     * {@code </script>} and {@code <!--} cannot appear; the line separators U+2028/U+2029 are escaped
     * too. JSON.parse reads the same value.
     */
    static RawString scriptJson(Object data, ObjectMapper json) {
        String text;
        try {
            text = json.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            // the data are maps, lists, strings and numbers read from JSON: they always serialise
            throw new IllegalStateException("chart data did not serialise", e);
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("\\u003c");
                case '>' -> out.append("\\u003e");
                case '&' -> out.append("\\u0026");
                case '\u2028' -> out.append("\\u2028");
                case '\u2029' -> out.append("\\u2029");
                default -> out.append(c);
            }
        }
        return new RawString(out.toString());
    }
}
