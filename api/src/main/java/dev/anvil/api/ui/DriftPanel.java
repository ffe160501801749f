package dev.anvil.api.ui;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.DriftReport;
import io.quarkus.qute.RawString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An endpoint's latest drift check on the endpoints page: the verdict, the features that moved and per-feature
 * PSI, drawn as bars by {@code /ui/charts.js} ({@code data-chart="psi"}) over a table that says the same.
 */
record DriftPanel(long reportId, java.time.Instant at, int version, String reference, boolean drifted, String moved,
                  String runId, RawString data, List<FeatureRow> features, String classes) {

    /** One feature's figures as the table shows them. */
    record FeatureRow(String name, String psi, String ksPValue, boolean drifted) {
    }

    /** The panel for a stored report; null when there is none. */
    static DriftPanel of(DriftReport report, ObjectMapper json) {
        if (report == null) {
            return null;
        }
        JsonNode body;
        try {
            body = json.readTree(report.reportJson());
        } catch (JsonProcessingException e) {
            body = json.createObjectNode();
        }
        JsonNode thresholds = body.path("thresholds");
        List<FeatureRow> rows = new ArrayList<>();
        List<Map<String, Object>> bars = new ArrayList<>();
        for (JsonNode f : body.path("features")) {
            rows.add(new FeatureRow(f.path("name").asText(), Fmt.num(f.path("psi").asDouble()),
                    Fmt.num(f.path("ks_p_value").asDouble()), f.path("drifted").asBoolean()));
            Map<String, Object> bar = new LinkedHashMap<>();
            bar.put("name", f.path("name").asText());
            bar.put("psi", f.path("psi").asDouble());
            bar.put("drifted", f.path("drifted").asBoolean());
            bars.add(bar);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("threshold", thresholds.path("psi").asDouble(0.2));
        data.put("features", bars);
        JsonNode c = body.path("classes");
        String classes = c.isObject() ? "chi-square " + Fmt.num(c.path("chi_square").asDouble()) + " (p "
                + Fmt.num(c.path("p_value").asDouble()) + "), PSI " + Fmt.num(c.path("psi").asDouble())
                + (c.path("drifted").asBoolean() ? ": moved" : ": stable")
                : body.path("classes_reason").asText("not compared");
        return new DriftPanel(report.id(), report.createdAt(), report.version(),
                report.referenceDataset() + "@" + report.referenceVersion(), report.drifted(),
                String.join(", ", report.movedFeatures()), report.runId(), Charts.scriptJson(data, json), rows, classes);
    }
}
