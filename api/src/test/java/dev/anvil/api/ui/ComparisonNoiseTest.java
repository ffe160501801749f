package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reviewer page calls a latency difference better or worse only when it is outside the spread. */
class ComparisonNoiseTest {

    private static Map<String, Object> validation(Map<String, Object> candidate, Map<String, Object> reference) {
        return Map.of("candidate", Map.of("latency_ms", candidate), "references", Map.of("input", Map.of("latency_ms", reference)));
    }

    private static Comparison.Diff p95Diff(Map<String, Object> validation) {
        return Comparison.of(validation).rows().stream().filter(r -> r.label().equals("p95 latency (ms)")).findFirst()
                .orElseThrow().cells().get(0).diff();
    }

    @Test
    void twoRunsOfTheSameModelDifferWithinNoise() {
        Comparison.Diff diff = p95Diff(validation(Map.of("p25", 1.7, "p75", 3.3, "p95", 3.56),
                Map.of("p25", 1.8, "p75", 2.1, "p95", 2.16)));
        assertThat(diff.verdict()).isNull();
        assertThat(diff.text()).isEqualTo("+1.400 (within noise, ±1.600)").doesNotContain("worse");
    }

    @Test
    void aDifferenceOutsideTheWiderSpreadIsWorseOrBetter() {
        Comparison.Diff worse = p95Diff(validation(Map.of("p25", 9.0, "p75", 9.5, "p95", 10.0),
                Map.of("p25", 1.8, "p75", 2.1, "p95", 2.16)));
        assertThat(worse.verdict()).isEqualTo("worse");
        Comparison.Diff better = p95Diff(validation(Map.of("p25", 1.8, "p75", 2.1, "p95", 2.16),
                Map.of("p25", 9.0, "p75", 9.5, "p95", 10.0)));
        assertThat(better.verdict()).isEqualTo("better");
    }

    @Test
    void aReportWithoutQuartilesKeepsThePlainVerdictAndAnAbsentFigureHasNone() {
        assertThat(p95Diff(validation(Map.of("p95", 3.56), Map.of("p95", 2.16))).verdict()).isEqualTo("worse");
        Map<String, Object> absent = new HashMap<>();
        absent.put("p95", null);
        absent.put("absent_reason", "no batch ran");
        assertThat(p95Diff(validation(absent, Map.of("p95", 2.16)))).isNull();
    }
}
