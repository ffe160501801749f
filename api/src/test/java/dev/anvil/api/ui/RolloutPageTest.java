package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.db.RolloutWindow;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rollout page's windows chart data and step number, from the recorded windows and the live status alone (no
 * application needed).
 */
class RolloutPageTest {
    private static final Instant AT = Instant.parse("2026-12-07T01:00:00Z");

    @Test
    void eachVersionIsASeriesWithAGapWhereItServedNothing() {
        List<RolloutWindow> recorded = List.of(
                RolloutWindow.measured("ro", 1, RolloutWindow.CANARY, 2, 5, 100, 1, 3.1, "pass", "ok", AT),
                RolloutWindow.measured("ro", 1, RolloutWindow.STABLE, 1, 5, 900, 0, 2.5, "pass", "ok", AT),
                RolloutWindow.measured("ro", 3, RolloutWindow.CANARY, 2, 100, 400, 4, 3.3, "pass", "ok", AT),
                RolloutWindow.measured("ro", 3, RolloutWindow.STABLE, 1, 100, 0, 0, 2.5, "pass", "ok", AT));

        Map<String, Object> data = RolloutPage.chartData(recorded);

        assertThat(data.get("windows")).isEqualTo(List.of(1, 3));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> series = (List<Map<String, Object>>) data.get("series");
        assertThat(series).extracting(s -> s.get("name")).containsExactly("canary v2", "stable v1");
        assertThat(series.get(0).get("errorRate")).isEqualTo(List.of(0.01, 0.01));
        assertThat(series.get(0).get("p95Ms")).isEqualTo(List.of(3.1, 3.3));
        // at weight 100 the stable version served nothing: no point, not a zero
        assertThat(series.get(1).get("errorRate")).isEqualTo(Arrays.asList(0.0, null));
        assertThat(series.get(1).get("p95Ms")).isEqualTo(Arrays.asList(2.5, null));
    }

    @Test
    void aFirstRolloutHasAStableSeriesWithoutAVersionAndAMissingSideIsAGap() {
        List<RolloutWindow> recorded = List.of(
                RolloutWindow.measured("ro", 1, RolloutWindow.CANARY, 1, 50, 10, 0, 1.0, "inconclusive", "few", AT),
                RolloutWindow.measured("ro", 2, RolloutWindow.STABLE, null, 50, 5, 0, 1.2, "inconclusive", "few", AT));

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> series = (List<Map<String, Object>>) RolloutPage.chartData(recorded).get("series");

        assertThat(series).extracting(s -> s.get("name")).containsExactly("canary v1", "stable");
        assertThat(series.get(0).get("p95Ms")).isEqualTo(Arrays.asList(1.0, null));
        assertThat(series.get(1).get("p95Ms")).isEqualTo(Arrays.asList(null, 1.2));
        assertThat(RolloutPage.chartData(List.of()).get("windows")).isEqualTo(List.of());
    }

    @Test
    void theLiveStepCountsFromOneAndAPromotingRolloutStaysAtItsLastStep() {
        assertThat(stepNumber(0, 3)).isEqualTo(1);
        assertThat(stepNumber(2, 3)).isEqualTo(3);
        // every step passed: while it promotes, the workflow's index is one past the last weight
        assertThat(stepNumber(3, 3)).isEqualTo(3);
        assertThat(new RolloutPage(null, null, List.of(), List.of(), null, List.of(), false, null, null).stepNumber())
                .as("no live status").isZero();
    }

    private static int stepNumber(int step, int steps) {
        dev.anvil.workflows.rollout.RolloutStatus live = new dev.anvil.workflows.rollout.RolloutStatus("running", 50,
                step, steps, 0, null, List.of());
        return new RolloutPage(null, live, List.of(), List.of(), null, List.of(), false, null, null).stepNumber();
    }
}
