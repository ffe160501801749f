package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.TaskRun;
import io.quarkus.qute.RawString;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Pareto front of a {@code compress} task on the run page: every grid point by size ratio against quality drop,
 * the front and the chosen point marked, drawn by {@code /ui/charts.js} ({@code data-chart="pareto"}) with the same
 * points as a table for readers without JavaScript.
 *
 * @param data the chart's JSON (script-safe, see {@link Charts#scriptJson})
 */
record ParetoChart(String task, String metric, RawString data, List<Point> points) {

    /** One grid point as the report gives it; figures the report lacks are null. */
    record Point(Object sparsity, Object bits, Object rank, Object size, Object sizeRatio, Object dropPoints,
            Object latencyMs, boolean onFront, boolean chosen) {
        String label() {
            return "sparsity " + sparsity + ", " + (Integer.valueOf(32).equals(bits) ? "float" : bits + " bit") + ", rank "
                    + rank;
        }
    }

    /** One chart per successful compress task (its latest attempt), in task order; none when no report has points. */
    static List<ParetoChart> of(Map<String, TaskRun> latest, ObjectMapper json) {
        List<ParetoChart> charts = new ArrayList<>();
        for (TaskRun t : latest.values()) {
            if ("compress".equals(t.operator()) && "SUCCESS".equalsIgnoreCase(t.status()) && t.metricsJson() != null) {
                of(t.taskId(), t.metricsJson(), json).ifPresent(charts::add);
            }
        }
        return charts;
    }

    @SuppressWarnings("unchecked")
    static Optional<ParetoChart> of(String task, String metricsJson, ObjectMapper json) {
        Map<String, Object> outputs;
        try {
            outputs = json.readValue(metricsJson, Map.class);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (!(outputs.get("report") instanceof Map<?, ?> report) || !(report.get("points") instanceof List<?> rows)) {
            return Optional.empty();
        }
        List<Point> points = new ArrayList<>();
        List<Map<String, Object>> data = new ArrayList<>();
        for (Object row : rows) {
            if (!(row instanceof Map<?, ?> r)) {
                continue;
            }
            Point p = new Point(r.get("sparsity"), r.get("bits"), r.get("rank"), r.get("size"), r.get("size_ratio"),
                    r.get("drop_points"), r.get("latency_p50_ms"), Boolean.TRUE.equals(r.get("on_front")),
                    Boolean.TRUE.equals(r.get("chosen")));
            points.add(p);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("label", p.label());
            d.put("size_ratio", p.sizeRatio());
            d.put("drop_points", p.dropPoints());
            d.put("latency_p50_ms", p.latencyMs());
            d.put("on_front", p.onFront());
            d.put("chosen", p.chosen());
            data.add(d);
        }
        if (points.isEmpty()) {
            return Optional.empty();
        }
        String metric = String.valueOf(((Map<String, Object>) report).getOrDefault("quality_metric", "quality"));
        return Optional.of(new ParetoChart(task, metric,
                Charts.scriptJson(Map.of("task", task, "metric", metric, "points", data), json), points));
    }
}
