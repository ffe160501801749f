package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reviewer page lists every output's comparison metrics; an absent one reads as such with its reason, never "NaN". */
class ComparisonOutputsTest {

    @Test
    void perOutputFiguresAreReadableAndAbsentOnesSayWhy() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("kind", "map");
        map.put("samples", 6);
        map.put("iou", null);
        map.put("iou_absent_reason", "neither output has a value above the threshold 0.5 in 6 samples");
        map.put("rel_l2", 0.0);
        map.put("max_abs", Double.NaN);
        map.put("threshold", 0.5);
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("agreement", null);
        input.put("agreement_absent_reason", "no output holds class scores");
        input.put("mean_cosine", null);
        input.put("outputs", Map.of("map", map));

        Comparison c = Comparison.of(Map.of("candidate", Map.of(), "references", Map.of("input", input)));

        assertThat(c.agreements()).singleElement().satisfies(a -> assertThat(a.note()).isEqualTo("no output holds class scores"));
        assertThat(c.outputs()).singleElement().satisfies(o -> {
            assertThat(o.reference()).isEqualTo("input");
            assertThat(o.output()).isEqualTo("map");
            assertThat(o.kind()).isEqualTo("map");
            assertThat(o.figures()).extracting(Comparison.Figure::metric).containsExactly("iou (> 0.5)", "rel_l2", "max_abs");
            assertThat(o.figures()).extracting(Comparison.Figure::text).containsExactly(
                    "absent: neither output has a value above the threshold 0.5 in 6 samples", "0", "absent");
        });
    }
}
