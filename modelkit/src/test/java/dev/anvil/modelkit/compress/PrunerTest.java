package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrunerTest {
    @TempDir
    Path dir;

    @Test
    void perLayerPruningZerosTheSmallestMagnitudesExactly() {
        OnnxModel model = CompressTestModels.gemm(new float[] {0.5f, -0.1f, 3f, -2f, 0.05f, 1f}, 2, 3, false, null);
        PruneReport report = MagnitudePruner.prune(model, PruneOptions.uniform(0.5));
        float[] w = Tensors.toFloats(model.graph().initializer("W").orElseThrow());
        assertThat(w).containsExactly(0f, 0f, 3f, -2f, 0f, 1f);
        assertThat(report.layers()).singleElement().satisfies(l -> {
            assertThat(l.name()).isEqualTo("fc");
            assertThat(l.params()).isEqualTo(6);
            assertThat(l.zeros()).isEqualTo(3);
            assertThat(l.sparsity()).isEqualTo(0.5);
        });
    }

    @Test
    void tiesAtTheThresholdAreBrokenInTensorOrder() {
        OnnxModel model = CompressTestModels.gemm(new float[] {1, 1, 1, 1}, 2, 2, false, null);
        MagnitudePruner.prune(model, PruneOptions.uniform(0.5));
        assertThat(Tensors.toFloats(model.graph().initializer("W").orElseThrow())).containsExactly(0f, 0f, 1f, 1f);
    }

    @Test
    void badInputIsRefusedNamingTheProblem() {
        assertThatThrownBy(() -> PruneOptions.uniform(1.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("below 1").hasMessageContaining("1.5");
        assertThatThrownBy(() -> PruneOptions.uniform(-0.1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PruneOptions.uniform(1.0)).isInstanceOf(IllegalArgumentException.class);
        OnnxModel model = CompressTestModels.gemm(new float[] {1, 2, 3, 4}, 2, 2, false, null);
        assertThatThrownBy(() -> MagnitudePruner.prune(model, new PruneOptions(0.5, false, Map.of(), Set.of("nope"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[nope]").hasMessageContaining("[fc]");
        assertThatThrownBy(() -> MagnitudePruner.prune(CompressTestModels.withIf(), PruneOptions.uniform(0.5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("branchy (If)");
    }

    @Test
    void cnnMnistAtHalfSparsityKeepsTopOneWithinHalfAPoint() throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        for (boolean global : new boolean[] {false, true}) {
            OnnxModel model = OnnxModel.read(mnist.model());
            PruneReport report = MagnitudePruner.prune(model, new PruneOptions(0.5, global, Map.of(), Set.of()));
            assertThat(report.sparsity()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.001));
            assertThat(report.layers()).hasSize(4);
            Path pruned = dir.resolve("pruned-" + global + ".onnx");
            model.write(pruned);
            ModelComparator.Comparison c = new ModelComparator(CompressTestModels.ENV).compare(pruned, mnist.model(),
                    mnist.evaluation(), ModelComparator.Pooling.NONE, 64, 0, (done, total) -> {});
            System.out.printf("cnn_mnist pruned 50%% (%s): float %.2f%%, pruned %.2f%%, drop %.2f pt, agreement %.4f,"
                    + " layers %s%n", global ? "global" : "per layer", 100 * c.referenceAccuracy(),
                    100 * c.candidateAccuracy(), c.accuracyDropPoints().orElseThrow(), c.top1Agreement(),
                    Arrays.toString(report.layers().stream().map(l -> l.name() + "=" + Math.round(100 * l.sparsity()) + "%")
                            .toArray()));
            assertThat(c.samples()).isEqualTo(9744);
            assertThat(c.accuracyDropPoints().orElseThrow()).isLessThanOrEqualTo(0.5);
        }
    }

    @Test
    void skippedAndOverriddenLayers() throws Exception {
        OnnxModel model = OnnxModel.read(CompressTestModels.Mnist.in(dir).model());
        var layers = WeightLayers.of(model);
        String first = layers.get(0).name();
        String second = layers.get(1).name();
        PruneReport report = MagnitudePruner.prune(model, new PruneOptions(0.5, true, Map.of(second, 0.9), Set.of(first)));
        assertThat(report.layers().get(0).skipped()).isTrue();
        assertThat(report.layers().get(1).sparsity()).isCloseTo(0.9, org.assertj.core.data.Offset.offset(0.01));
        // deterministic: the same options give the same bytes
        OnnxModel again = OnnxModel.read(CompressTestModels.Mnist.in(dir).model());
        MagnitudePruner.prune(again, new PruneOptions(0.5, true, Map.of(second, 0.9), Set.of(first)));
        assertThat(again.toBytes()).isEqualTo(model.toBytes());
    }
}
