package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The chart sections of the approval page from validation reports, new and old; the JSON they embed. */
class UiChartsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Map<String, Object> model(boolean withHistogram, double p50) {
        Map<String, Object> latency = new LinkedHashMap<>(Map.of("p50", p50, "p95", p50 * 1.5, "p99", p50 * 2, "mean", p50, "batches", 5));
        if (withHistogram) {
            latency.put("histogram", Map.of("edges", List.of(1.0, 1.259, 1.585), "counts", List.of(3, 2)));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("latency_ms", latency);
        m.put("confusion_matrix", List.of(List.of(5, 1), List.of(0, 4)));
        m.put("per_class", List.of(Map.of("class", 0), Map.of("class", 1)));
        return m;
    }

    static Map<String, Object> report(boolean withHistogram) {
        Map<String, Object> refs = new LinkedHashMap<>();
        refs.put("input", model(withHistogram, 1.3));
        refs.put("production", Map.of("missing", true, "note", "first deployment"));
        return Map.of("candidate", model(withHistogram, 1.1), "references", refs);
    }

    static String embedded(String html, String id) {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"" + id + "\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("the page embeds " + id).isTrue();
        return m.group(1);
    }

    @Test
    @SuppressWarnings("unchecked")
    void aReportWithHistogramsGetsTheLatencyChartItsDataAndTheTables() throws Exception {
        String html = Charts.latency(report(true), JSON);
        assertThat(html).contains("<figure class=\"chart-figure\" id=\"latency-chart\" data-chart=\"latency\" data-source=\"latency-data\"")
                .contains("<details id=\"latency-table\" open>").contains("data-testid=\"latency\"")
                .contains("data-testid=\"latency-buckets\"").contains("1 – 1.259");
        Map<String, Object> data = JSON.readValue(embedded(html, "latency-data"), Map.class);
        List<Map<String, Object>> series = (List<Map<String, Object>>) data.get("series");
        assertThat(series).extracting(s -> s.get("name")).containsExactly("candidate", "input");
        assertThat(series.get(0)).containsEntry("p50", 1.1).containsEntry("counts", List.of(3, 2));
    }

    @Test
    void anOldReportWithoutHistogramsGetsTheTableOnly() {
        String html = Charts.latency(report(false), JSON);
        assertThat(html).doesNotContain("<figure").doesNotContain("latency-data").doesNotContain("latency-buckets")
                .contains("data-testid=\"latency\"").contains("<th scope=\"row\">p95</th>");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theConfusionMatrixIsEmbeddedWithItsClassLabels() throws Exception {
        String html = Charts.confusion(report(true), JSON);
        assertThat(html).contains("data-chart=\"confusion\"").contains("data-testid=\"confusion\"");
        Map<String, Object> data = JSON.readValue(embedded(html, "confusion-data"), Map.class);
        assertThat(data).containsEntry("labels", List.of("0", "1")).containsEntry("matrix", List.of(List.of(5, 1), List.of(0, 4)));
        assertThat(Charts.confusion(Map.of("candidate", Map.of("confusion_matrix", List.of(List.of(1, 2)))), JSON))
                .as("not square: no chart, no table").isEmpty();
        assertThat(Charts.confusion(Map.of("candidate", Map.of()), JSON)).isEmpty();
    }

    @Test
    @SuppressWarnings("unchecked")
    void stringsInTheDataCannotBreakOutOfTheScriptElement() throws Exception {
        String evil = "</script><script>alert(1)</script><!-- & \u2028";
        String block = Charts.dataScript("x", Map.of("labels", List.of(evil)), JSON);
        String body = block.substring("<script type=\"application/json\" id=\"x\">".length(), block.length() - "</script>".length());
        assertThat(body).doesNotContain("<").doesNotContain(">").doesNotContain("&").doesNotContain("\u2028");
        assertThat((List<String>) JSON.readValue(body, Map.class).get("labels")).containsExactly(evil);

        Map<String, Object> named = new LinkedHashMap<>(report(true));
        named.put("references", Map.of(evil, model(true, 2)));
        String html = Charts.latency(named, JSON);
        assertThat(html).doesNotContain("</script><script>").contains("&lt;/script&gt;&lt;script&gt;");
    }
}
