package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ReferencesTest {
    private static final Map<String, Object> ARTIFACT = Map.of("uri", "s3://a/b", "sha256", "ab12");
    private static final Function<Reference, Object> LOOKUP = ref -> switch (ref.kind()) {
        case PARAM -> ref.name().equals("n") ? 256 : "v-" + ref.name();
        case TASK_OUTPUT -> ARTIFACT;
        case RUN -> "run-1";
    };

    @Test
    void scansEveryKind() {
        References.Scan scan = References.scan("${params.a} ${tasks.t.outputs.model} ${run.id} ${run.logical_date} $${x}");

        assertThat(scan.problems()).isEmpty();
        assertThat(scan.references()).containsExactly(
                new Reference(Reference.Kind.PARAM, "", "a"),
                new Reference(Reference.Kind.TASK_OUTPUT, "t", "model"),
                new Reference(Reference.Kind.RUN, "", "id"),
                new Reference(Reference.Kind.RUN, "", "logical_date"));
        assertThat(scan.references().get(1).text()).isEqualTo("${tasks.t.outputs.model}");
    }

    @Test
    void aWholeReferenceRendersToTheValueItself() {
        assertThat(References.render("${params.n}", LOOKUP)).isEqualTo(256);
        assertThat(References.render("${tasks.t.outputs.model}", LOOKUP)).isEqualTo(ARTIFACT);
    }

    @Test
    void referencesInsideTextAreSplicedAndEscapesUnescaped() {
        Object with = Map.of("dir", List.of("s3://runs/${run.id}/n=${params.n}", "echo $${HOME}"), "k", 3);

        assertThat(References.render(with, LOOKUP))
                .isEqualTo(Map.of("dir", List.of("s3://runs/run-1/n=256", "echo ${HOME}"), "k", 3));
    }

    @Test
    void renderRefusesMalformedReferences() {
        assertThatThrownBy(() -> References.render("x ${nope}", LOOKUP)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown reference '${nope}'");
    }

    @Test
    void wholeReferenceDetection() {
        assertThat(References.isWholeReference("${params.a}")).isTrue();
        assertThat(References.isWholeReference("${params.a}${params.b}")).isFalse();
        assertThat(References.isWholeReference("x${params.a}")).isFalse();
        assertThat(References.isWholeReference("${bogus}")).isFalse();
        assertThat(References.isWholeReference(5)).isFalse();
    }
}
