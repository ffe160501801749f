package dev.anvil.modelkit.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.gate.GatePolicy;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatePolicyTest {

    private static final Map<String, Object> ISSUE_POLICY = policy();

    private static Map<String, Object> policy() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("accuracy", ">= 0.985");
        p.put("accuracy_drop_vs", Map.of("model", "production", "max", 0.005));
        p.put("p95_latency_ms", "<= 5");
        p.put("size_ratio_vs", Map.of("model", "input", "max", 0.3));
        return p;
    }

    private static Map<String, Object> report(double accuracy, double p95, long size, Map<String, Object> production) {
        return Map.of("candidate", Map.of("accuracy", accuracy, "size_bytes", size, "latency_ms", Map.of("p95", p95)),
                "references", Map.of("input", Map.of("accuracy", 0.99, "size_bytes", 100_000),
                        "production", production));
    }

    @Test
    void aGoodCandidatePassesEveryRule() {
        GatePolicy.Outcome outcome = GatePolicy.check(ISSUE_POLICY,
                report(0.989, 1.2, 26_000, Map.of("accuracy", 0.99, "size_bytes", 100_000)));
        assertThat(outcome.passed()).isTrue();
        assertThat(outcome.rules()).extracting(GatePolicy.RuleResult::rule)
                .containsExactly("accuracy", "accuracy_drop_vs", "p95_latency_ms", "size_ratio_vs");
        assertThat(outcome.rules().get(3).value()).isEqualTo(0.26);
    }

    @Test
    void aWorseModelFailsWithATableOfEveryFailedRule() {
        GatePolicy.Outcome outcome = GatePolicy.check(ISSUE_POLICY,
                report(0.62, 7.5, 26_000, Map.of("accuracy", 0.99, "size_bytes", 100_000)));
        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.failed()).extracting(GatePolicy.RuleResult::rule)
                .containsExactly("accuracy", "accuracy_drop_vs", "p95_latency_ms");
        assertThat(outcome.failureTable())
                .startsWith("gate failed: 3 of 4 rule(s) failed")
                .contains("accuracy               0.6200         >= 0.985         FAIL")
                .contains("accuracy_drop_vs       0.3700         <= 0.005 vs production FAIL")
                .contains("p95_latency_ms         7.500          <= 5             FAIL")
                .doesNotContain("size_ratio_vs");
    }

    @Test
    void comparingWithAProductionModelThatDoesNotExistPassesWithANote() {
        GatePolicy.Outcome outcome = GatePolicy.check(ISSUE_POLICY, report(0.99, 1, 26_000,
                Map.of("missing", true, "note", "no version of model 'mnist' holds the alias 'production' (first deployment)")));
        assertThat(outcome.passed()).isTrue();
        assertThat(outcome.rules().get(1).note()).contains("first deployment");
    }

    @Test
    void badRulesAreRefusedByName() {
        assertThatThrownBy(() -> GatePolicy.check(Map.of("acuracy", ">= 1"), report(1, 1, 1, Map.of())))
                .hasMessageContaining("unknown gate rule 'acuracy'").hasMessageContaining("accuracy");
        assertThatThrownBy(() -> GatePolicy.check(Map.of("accuracy", "at least 0.9"), report(1, 1, 1, Map.of())))
                .hasMessageContaining("\">= 0.985\"");
        assertThatThrownBy(() -> GatePolicy.check(Map.of("size_ratio_vs", Map.of("model", "staging", "max", 1)),
                report(1, 1, 1, Map.of()))).hasMessageContaining("no such reference").hasMessageContaining("input");
        assertThatThrownBy(() -> GatePolicy.check(Map.of(), report(1, 1, 1, Map.of())))
                .hasMessageContaining("at least one rule");
    }

    @Test
    void aMissingFigureFailsTheRuleAndSaysWhy() {
        GatePolicy.Outcome outcome = GatePolicy.check(Map.of("accuracy", ">= 0.9"),
                Map.of("candidate", Map.of("size_bytes", 10)));
        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.rules().get(0).note()).contains("labelled dataset");
    }
}
