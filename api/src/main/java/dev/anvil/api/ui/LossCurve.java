package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.TaskRun;
import io.quarkus.qute.RawString;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A task's training loss curve on the run page: the {@code loss_curve} its metrics hold (the {@code train}
 * operator records the average training loss per epoch), drawn by {@code /ui/charts.js} ({@code data-chart="loss"})
 * over the same figures as a table. A curve with anything but finite, non-negative numbers is not shown rather
 * than shown wrong.
 *
 * @param data the chart's JSON ({@link Charts#scriptJson}); null for a single epoch (the table says it all)
 */
record LossCurve(String task, int attempt, String status, RawString data, List<Epoch> epochs, double finalLoss) {

    record Epoch(int epoch, double loss) {
    }

    /** The curves of the given tries (the latest of each task), in their order. */
    static List<LossCurve> of(Collection<TaskRun> tries, ObjectMapper json) {
        List<LossCurve> curves = new ArrayList<>();
        for (TaskRun t : tries) {
            List<Double> loss = lossCurve(t.metricsJson(), json);
            if (loss.isEmpty()) {
                continue;
            }
            List<Epoch> epochs = new ArrayList<>();
            for (int i = 0; i < loss.size(); i++) {
                epochs.add(new Epoch(i + 1, loss.get(i)));
            }
            RawString data = null;
            if (loss.size() > 1) {
                Map<String, Object> chart = new LinkedHashMap<>();
                chart.put("task", t.taskId());
                chart.put("loss", loss);
                data = Charts.scriptJson(chart, json);
            }
            curves.add(new LossCurve(t.taskId(), t.attempt(), t.status(), data, epochs, loss.get(loss.size() - 1)));
        }
        return curves;
    }

    /** The metrics' {@code loss_curve}, or empty when there is none or it holds anything but losses. */
    static List<Double> lossCurve(String metricsJson, ObjectMapper json) {
        if (metricsJson == null || metricsJson.isBlank()) {
            return List.of();
        }
        JsonNode curve;
        try {
            curve = json.readTree(metricsJson).path("loss_curve");
        } catch (IOException e) {
            return List.of();
        }
        if (!curve.isArray() || curve.isEmpty()) {
            return List.of();
        }
        List<Double> loss = new ArrayList<>();
        for (JsonNode v : curve) {
            if (!v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() < 0) {
                return List.of();
            }
            loss.add(v.asDouble());
        }
        return loss;
    }
}
