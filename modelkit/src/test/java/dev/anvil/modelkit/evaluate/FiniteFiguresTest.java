package dev.anvil.modelkit.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.modelkit.gate.GatePolicy;
import dev.anvil.modelkit.validate.FiniteFigures;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** No NaN or infinity reaches a report: the guard where the report JSON is built makes each null with a reason. */
class FiniteFiguresTest {

    @Test
    void nonFiniteNumbersBecomeNullWithAReasonAtAnyDepth() {
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("rel_l2", Double.POSITIVE_INFINITY);
        outputs.put("max_abs", 0.5);
        Map<String, Object> reference = new LinkedHashMap<>();
        reference.put("mean_cosine", Double.NaN);
        reference.put("outputs", Map.of("map", outputs));
        reference.put("edges", Arrays.asList(1.0, Double.NaN, 2.0));
        reference.put("spread", new double[] {1, Double.NEGATIVE_INFINITY});
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("references", Map.of("input", reference));
        report.put("accuracy", Float.NaN);

        Map<String, Object> clean = FiniteFigures.of(report);

        assertThat(clean).containsEntry("accuracy", null)
                .containsEntry("accuracy_absent_reason",
                        "accuracy came out as NaN (not a number): it is undefined for these outputs and reported as null, never as a number");
        @SuppressWarnings("unchecked")
        Map<String, Object> input = (Map<String, Object>) ((Map<String, Object>) clean.get("references")).get("input");
        assertThat(input).containsEntry("mean_cosine", null).containsKey("mean_cosine_absent_reason")
                .containsEntry("edges", Arrays.asList(1.0, null, 2.0))
                .containsEntry("edges_absent_reason", "edges held 1 NaN or infinite value(s); they are reported as null")
                .containsEntry("spread", Arrays.asList(1.0, null));
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) ((Map<String, Object>) input.get("outputs")).get("map");
        assertThat(map).containsEntry("rel_l2", null).containsEntry("max_abs", 0.5)
                .containsEntry("rel_l2_absent_reason",
                        "rel_l2 came out as +infinity: it is undefined for these outputs and reported as null, never as a number");
        assertThat(numbers(clean)).allMatch(Double::isFinite);

        GatePolicy.Outcome gate = GatePolicy.check(Map.of("references.input.outputs.map.rel_l2", "<= 1"), clean);
        assertThat(gate.passed()).isFalse();
        assertThat(gate.rules().get(0).note()).startsWith("rel_l2 is absent: rel_l2 came out as +infinity");
    }

    private static List<Double> numbers(Object doc) {
        java.util.ArrayList<Double> out = new java.util.ArrayList<>();
        if (doc instanceof Map<?, ?> m) {
            m.values().forEach(v -> out.addAll(numbers(v)));
        } else if (doc instanceof java.util.Collection<?> c) {
            c.forEach(v -> out.addAll(numbers(v)));
        } else if (doc instanceof Number n) {
            out.add(n.doubleValue());
        }
        return out;
    }

    @Test
    void aReportWrittenBeforeTheGuardNeverPassesABoundWithNaN() {
        GatePolicy.Outcome gate = GatePolicy.check(Map.of("cosine_vs", Map.of("model", "input", "min", 0.9)),
                Map.of("references", Map.of("input", Map.of("mean_cosine", Double.NaN))));
        assertThat(gate.passed()).isFalse();
        assertThat(GatePolicy.check(Map.of("references.input.mean_cosine", ">= 0.9"),
                Map.of("references", Map.of("input", Map.of("mean_cosine", Double.NaN)))).passed()).isFalse();
        assertThat(List.of(gate.rules().get(0).value() == null)).containsExactly(true);
    }
}
