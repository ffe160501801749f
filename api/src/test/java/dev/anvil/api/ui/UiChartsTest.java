package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.LocalStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The chart sections of the approval page (the charts fragment of ui/templates/approval.html, rendered by
 * Qute as the page renders it) from validation reports, new and old; the JSON they embed.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
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

    static String charts(Map<String, Object> validation) {
        return Pages.approval$charts(Charts.of(validation, JSON)).render();
    }

    @Test
    @SuppressWarnings("unchecked")
    void aReportWithHistogramsGetsTheLatencyChartItsDataAndTheTables() throws Exception {
        String html = charts(report(true));
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
        String html = charts(report(false));
        assertThat(html).doesNotContain("id=\"latency-chart\"").doesNotContain("latency-data").doesNotContain("latency-buckets")
                .contains("data-testid=\"latency\"").contains("<th scope=\"row\">p95</th>")
                .as("the confusion matrix does not depend on the histograms").contains("id=\"confusion-data\"");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theConfusionMatrixIsEmbeddedWithItsClassLabels() throws Exception {
        String html = charts(report(true));
        assertThat(html).contains("data-chart=\"confusion\"").contains("data-testid=\"confusion\"")
                .contains("<td class=\"n shade-12\">5</td>").contains("<td class=\"n shade-2\">1</td>")
                .as("no inline style: the pages' Content-Security-Policy refuses them").doesNotContain("style=");
        Map<String, Object> data = JSON.readValue(embedded(html, "confusion-data"), Map.class);
        assertThat(data).containsEntry("labels", List.of("0", "1")).containsEntry("matrix", List.of(List.of(5, 1), List.of(0, 4)));
        assertThat(charts(Map.of("candidate", Map.of("confusion_matrix", List.of(List.of(1, 2))))))
                .as("not square: no chart, no table").doesNotContain("confusion");
        assertThat(charts(Map.of("candidate", Map.of()))).doesNotContain("confusion");
    }

    @Test
    @SuppressWarnings("unchecked")
    void stringsInTheDataCannotBreakOutOfTheScriptElement() throws Exception {
        String evil = "</script><script>alert(1)</script><!-- & \u2028";
        Map<String, Object> candidate = new LinkedHashMap<>(model(true, 1.1));
        candidate.put("per_class", List.of(Map.of("class", evil), Map.of("class", "\"quoted\"")));
        Map<String, Object> named = new LinkedHashMap<>();
        named.put("candidate", candidate);
        named.put("references", Map.of(evil, model(true, 2)));
        String html = charts(named);

        for (String id : List.of("latency-data", "confusion-data")) {
            String body = embedded(html, id);
            assertThat(body).as(id).doesNotContain("<").doesNotContain(">").doesNotContain("&").doesNotContain("\u2028");
        }
        assertThat((List<String>) JSON.readValue(embedded(html, "confusion-data"), Map.class).get("labels"))
                .as("JSON.parse reads the same strings: the data is not HTML-escaped").containsExactly(evil, "\"quoted\"");
        Map<String, Object> latency = JSON.readValue(embedded(html, "latency-data"), Map.class);
        assertThat((List<Map<String, Object>>) latency.get("series")).extracting(s -> s.get("name")).containsExactly("candidate", evil);
        assertThat(html).as("the tables' headers are escaped").doesNotContain("</script><script>")
                .contains("<th scope=\"col\">&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!-- &amp; \u2028</th>")
                .contains("<th scope=\"col\">&quot;quoted&quot;</th>");
        assertThat(html.split("<script", -1)).as("only the two data blocks and the chart script open a script element").hasSize(4);
    }
}
