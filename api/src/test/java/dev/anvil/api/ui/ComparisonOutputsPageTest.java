package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.api.LocalStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-output metrics section of the approval page (the outputs fragment of ui/templates/approval.html), as Qute renders it. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ComparisonOutputsPageTest {

    @Test
    void everyOutputsFiguresAreShownAndAnAbsentOneWithItsReason() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("kind", "map");
        map.put("samples", 6);
        map.put("iou", null);
        map.put("iou_absent_reason", "neither output has a value above the threshold 0.5 in 6 samples");
        map.put("rel_l2", 0.00213);
        map.put("threshold", 0.5);
        Map<String, Object> words = Map.of("kind", "unsupported", "samples", 0,
                "note", "output 'words' is tensor(string)[-1]: only numeric tensors can be compared; it is not compared");
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("map", map);
        outputs.put("words", words);
        Comparison c = Comparison.of(Map.of("candidate", Map.of(), "references", Map.of("input", Map.of("outputs", outputs))));

        String html = Pages.approval$outputs(c).render();

        assertThat(html).contains("data-testid=\"output-metrics\"")
                .contains("<td>iou (&gt; 0.5)</td><td class=\"n\">absent: neither output has a value above the threshold 0.5 in 6 samples</td>")
                .contains("<td>rel_l2</td><td class=\"n\">0.002130</td>")
                .contains("not compared: output &#39;words&#39; is tensor(string)[-1]")
                .doesNotContain("NaN");
    }
}
