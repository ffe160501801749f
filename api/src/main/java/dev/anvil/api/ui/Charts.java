package dev.anvil.api.ui;

import static dev.anvil.api.ui.Html.esc;
import static dev.anvil.api.ui.Html.num;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The approval page's charts, drawn in the browser by {@code /ui/charts.js} (top-level {@code ui/}):
 * latency per batch of the candidate against its references, and the candidate's confusion matrix.
 * Each section is a hidden {@code <figure>} the script fills, the data as embedded JSON, and the same
 * figures as tables in an open {@code <details>}, which the script folds once it has drawn the chart.
 * Without JavaScript, or for a report written before latency histograms existed, the tables are the
 * page.
 */
final class Charts {
    /** The chart script; a module script runs once the page is parsed, wherever the tag is. */
    static final String SCRIPT = "<script type=\"module\" src=\"/ui/charts.js\"></script>";

    private Charts() {
    }

    /** Latency per batch: the chart (when the report has histograms) and the percentiles and buckets as tables. */
    static String latency(Map<String, Object> validation, ObjectMapper json) {
        Map<String, Map<String, Object>> models = measuredModels(validation);
        StringBuilder b = new StringBuilder("<h3>Latency per batch</h3>");
        Optional<Map<String, Object>> data = latencyData(models);
        data.ifPresent(d -> b.append(figure("latency", "Latency per batch, share of batches per bucket (log scale), "
                + "with p50, p95 and p99 marked; bars side by side per model.")).append(dataScript("latency-data", d, json)));
        b.append("<details id=\"latency-table\" open><summary>Latency as a table</summary>")
                .append("<table data-testid=\"latency\"><caption>Latency per batch (ms)</caption><tr><th>percentile</th>");
        models.keySet().forEach(n -> b.append("<th scope=\"col\">").append(esc(n)).append("</th>"));
        b.append("</tr>");
        for (String p : List.of("p50", "p95", "p99", "mean")) {
            b.append("<tr><th scope=\"row\">").append(p).append("</th>");
            models.values().forEach(m -> b.append("<td class=\"n\">").append(num(latencyOf(m).get(p))).append("</td>"));
            b.append("</tr>");
        }
        b.append("</table>");
        data.ifPresent(d -> b.append(bucketTable(d)));
        return b.append("</details>").toString();
    }

    /** The candidate's confusion matrix: the heat map and the matrix as a table. Empty when the report has none. */
    @SuppressWarnings("unchecked")
    static String confusion(Map<String, Object> validation, ObjectMapper json) {
        Optional<Map<String, Object>> data = confusionData(validation);
        if (data.isEmpty()) {
            return "";
        }
        List<String> labels = (List<String>) data.get().get("labels");
        List<List<Long>> matrix = (List<List<Long>>) data.get().get("matrix");
        long max = Math.max(1, matrix.stream().flatMap(List::stream).mapToLong(Long::longValue).max().orElse(1));
        StringBuilder b = new StringBuilder("<h3>Confusion matrix</h3>")
                .append(figure("confusion", "Rows: true class, columns: predicted class. Shade: share of the true class's "
                        + "samples; each cell gives the count."))
                .append(dataScript("confusion-data", data.get(), json))
                .append("<details id=\"confusion-table\" open><summary>Confusion matrix as a table</summary>")
                .append("<table data-testid=\"confusion\"><caption>Rows: true class, columns: predicted class</caption><tr><td></td>");
        labels.forEach(l -> b.append("<th scope=\"col\">").append(esc(l)).append("</th>"));
        b.append("</tr>");
        for (int i = 0; i < matrix.size(); i++) {
            b.append("<tr><th scope=\"row\">").append(esc(labels.get(i))).append("</th>");
            for (long n : matrix.get(i)) {
                b.append("<td class=\"n\" style=\"background: rgba(37,99,235,")
                        .append(String.format(Locale.ROOT, "%.2f", 0.6 * n / max)).append(")\">").append(n).append("</td>");
            }
            b.append("</tr>");
        }
        return b.append("</table></details>").toString();
    }

    private static String figure(String kind, String caption) {
        return "<figure class=\"chart-figure\" id=\"" + kind + "-chart\" data-chart=\"" + kind + "\" data-source=\"" + kind
                + "-data\" data-fallback=\"" + kind + "-table\" hidden><figcaption>" + esc(caption) + "</figcaption></figure>";
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

    /** The histograms as a table: one row per bucket that any model has batches in (they share bucket edges). */
    @SuppressWarnings("unchecked")
    private static String bucketTable(Map<String, Object> data) {
        List<Map<String, Object>> series = (List<Map<String, Object>>) data.get("series");
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
        StringBuilder b = new StringBuilder("<table data-testid=\"latency-buckets\"><caption>Batches per latency bucket</caption>"
                + "<tr><th scope=\"col\">ms</th>");
        series.forEach(s -> b.append("<th scope=\"col\">").append(esc(s.get("name"))).append("</th>"));
        b.append("</tr>");
        upper.forEach((from, to) -> {
            b.append("<tr><th scope=\"row\">").append(num(from)).append(" – ").append(num(to)).append("</th>");
            countsByLower.forEach(c -> b.append("<td class=\"n\">").append(num(c.getOrDefault(from, 0))).append("</td>"));
            b.append("</tr>");
        });
        return b.append("</table>").toString();
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

    /** Data for the chart script as a JSON block that no string inside it can close or comment out. */
    static String dataScript(String id, Object data, ObjectMapper json) {
        try {
            return "<script type=\"application/json\" id=\"" + esc(id) + "\">" + scriptSafe(json.writeValueAsString(data)) + "</script>";
        } catch (JsonProcessingException e) {
            // the data are maps, lists, strings and numbers read from JSON: they always serialise
            throw new IllegalStateException("chart data for " + id + " did not serialise", e);
        }
    }

    /**
     * JSON made safe inside a {@code <script>} element: {@code <}, {@code >} and {@code &} (which only
     * occur inside strings in JSON) become \\u escapes, so {@code </script>} and {@code <!--} cannot
     * appear, and the line separators U+2028/U+2029 are escaped too. JSON.parse reads the same value.
     */
    static String scriptSafe(String json) {
        StringBuilder out = new StringBuilder(json.length() + 16);
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            switch (c) {
                case '<' -> out.append("\\u003c");
                case '>' -> out.append("\\u003e");
                case '&' -> out.append("\\u0026");
                case '\u2028' -> out.append("\\u2028");
                case '\u2029' -> out.append("\\u2029");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
