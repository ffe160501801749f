package dev.anvil.modelkit.compile.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.onnx.ModelSignature;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShapeProfilesTest {
    private static final ModelSignature STATIC = signature(List.of("1", "1", "28", "28"));
    private static final ModelSignature DYNAMIC = signature(List.of("?", "1", "28", "28"));

    private static ModelSignature signature(List<String> shape) {
        return new ModelSignature(List.of(new ModelSignature.Tensor("input_image", "float32", shape)),
                List.of(new ModelSignature.Tensor("out", "float32", List.of("1", "10"))));
    }

    @Test
    void aStaticInputNeedsNoDeclaredShape() {
        assertThat(ShapeProfiles.derive(STATIC, Map.of()))
                .containsExactly(ShapeProfile.fixed("input_image", List.of(1L, 1L, 28L, 28L)));
    }

    @Test
    void aDynamicInputWithoutAProfileIsRefusedNamingTheInputAndHowToDeclareIt() {
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("input 'input_image' has dynamic dimensions [?, 1, 28, 28]")
                .hasMessageContaining("optimisation profile")
                .hasMessageContaining("with.shapes.input_image")
                .hasMessageContaining("{min: [1, 1, 28, 28], opt: [8, 1, 28, 28], max: [32, 1, 28, 28]}");
    }

    @Test
    void anInputWithoutShapeIsRefusedToo() {
        ModelSignature none = new ModelSignature(List.of(new ModelSignature.Tensor("x", "float32", null)), List.of());
        assertThatThrownBy(() -> ShapeProfiles.derive(none, Map.of())).hasMessageContaining("input 'x' has no shape");
    }

    @Test
    void aDeclaredShapeFixesTheDynamicBatch() {
        assertThat(ShapeProfiles.derive(DYNAMIC, Map.of("input_image", List.of(4, 1, 28, 28))))
                .containsExactly(ShapeProfile.fixed("input_image", List.of(4L, 1L, 28L, 28L)));
    }

    @Test
    void aDeclaredRangeBecomesTheProfile() {
        ShapeProfile p = ShapeProfiles.derive(DYNAMIC, Map.of("input_image", Map.of("min", List.of(1, 1, 28, 28),
                "opt", List.of(8, 1, 28, 28), "max", List.of(32, 1, 28, 28)))).get(0);
        assertThat(p.min()).containsExactly(1L, 1L, 28L, 28L);
        assertThat(p.opt()).containsExactly(8L, 1L, 28L, 28L);
        assertThat(p.max()).containsExactly(32L, 1L, 28L, 28L);
        assertThat(p.admits(new long[] {1, 1, 28, 28})).isTrue();
        assertThat(p.admits(new long[] {64, 1, 28, 28})).isFalse();
    }

    @Test
    void badDeclarationsAreRefusedNamingTheField() {
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of("image", List.of(1, 1, 28, 28))))
                .hasMessageContaining("with.shapes names input 'image', which the model does not have; its inputs are"
                        + " [input_image]");
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of("input_image", List.of(1, 28, 28))))
                .hasMessageContaining("with.shapes.input_image has rank 3; input 'input_image' is [?, 1, 28, 28]");
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of("input_image", List.of(1, 3, 28, 28))))
                .hasMessageContaining("with.shapes.input_image[1] is 3 but input 'input_image' fixes that dimension"
                        + " at 1");
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of("input_image", List.of(0, 1, 28, 28))))
                .hasMessageContaining("with.shapes.input_image[0] must be a positive integer, got 0");
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of("input_image", Map.of("min",
                List.of(8, 1, 28, 28), "opt", List.of(4, 1, 28, 28), "max", List.of(32, 1, 28, 28)))))
                .hasMessageContaining("dimension 0 must satisfy min ≤ opt ≤ max, got 8, 4, 32");
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of("input_image", Map.of("min",
                List.of(1, 1, 28, 28)))))
                .hasMessageContaining("with.shapes.input_image needs min, opt and max");
        assertThatThrownBy(() -> ShapeProfiles.derive(DYNAMIC, Map.of("input_image", Map.of("lo",
                List.of(1, 1, 28, 28)))))
                .hasMessageContaining("has key 'lo'");
    }
}
