package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StructuredPrunerTest {
    @TempDir
    Path dir;

    /** x[b,4] → Gemm(4→3, transB) → Relu → Gemm(3→2); neuron 1 of the first has zero weights and bias. */
    static OnnxModel twoLayers() {
        float[] w1 = {1, -2, 0.5f, 3, 0, 0, 0, 0, -1, 1, 2, 0.25f}; // [3, 4], transB
        float[] b1 = {0.5f, 0, -0.25f};
        float[] w2 = {1, 2, 7, 9, -3, 0.5f}; // [3, 2]
        float[] b2 = {0.1f, -0.1f};
        return CompressTestModels.mlp(w1, b1, w2, b2);
    }

    @Test
    void removingADeadNeuronKeepsTheOutputsExactlyAndFixesTheConsumer() throws Exception {
        OnnxModel model = twoLayers();
        float[] x = {1, 2, 3, 4, -1, 0.5f, 2, -3};
        float[] expected = CompressTestModels.run(model, x, 2, 4);
        StructuredPruner.Report report = StructuredPruner.prune(model, new StructuredPruner.Options(0.34, Map.of(),
                Set.of(), false));
        assertThat(report.layers()).hasSize(2);
        assertThat(report.layers().get(0)).satisfies(l -> {
            assertThat(l.channelsBefore()).isEqualTo(3);
            assertThat(l.channelsAfter()).isEqualTo(2);
            assertThat(l.consumer()).isEqualTo("fc2");
        });
        assertThat(report.layers().get(1).leftAlone()).isNotNull();
        assertThat(Tensors.dims(model.graph().initializer("W1").orElseThrow())).containsExactly(2, 4);
        assertThat(Tensors.toFloats(model.graph().initializer("B1").orElseThrow())).containsExactly(0.5f, -0.25f);
        assertThat(Tensors.dims(model.graph().initializer("W2").orElseThrow())).containsExactly(2, 2);
        assertThat(CompressTestModels.run(model, x, 2, 4)).containsExactly(expected, offset(1e-6f));
    }

    @Test
    void badInputIsRefused() {
        assertThatThrownBy(() -> new StructuredPruner.Options(1.5, Map.of(), Set.of(), false))
                .hasMessageContaining("fraction");
        assertThatThrownBy(() -> StructuredPruner.prune(twoLayers(), new StructuredPruner.Options(0.5,
                Map.of("nope", 0.5), Set.of(), false))).hasMessageContaining("[nope]");
        assertThatThrownBy(() -> StructuredPruner.prune(CompressTestModels.withIf(),
                new StructuredPruner.Options(0.5, Map.of(), Set.of(), false))).hasMessageContaining("branchy (If)");
    }

    @Test
    void cnnMnistChannelsAndNeuronsAreReallyRemoved() throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        for (double fraction : new double[] {0.25, 0.5}) {
            OnnxModel model = OnnxModel.read(mnist.model());
            StructuredPruner.Report report = StructuredPruner.prune(model, new StructuredPruner.Options(fraction,
                    Map.of(), Set.of(), false));
            Path pruned = dir.resolve("structured-" + fraction + ".onnx");
            model.write(pruned);
            ModelComparator.Comparison c = new ModelComparator(CompressTestModels.ENV).compare(pruned, mnist.model(),
                    mnist.evaluation(), ModelComparator.Pooling.NONE, 64, 0, (done, total) -> {});
            System.out.printf("cnn_mnist structured %.0f%%: float %.2f%%, pruned %.2f%%, drop %.2f pt, params %d -> %d,"
                    + " size %d -> %d bytes, layers %s%n", 100 * fraction, 100 * c.referenceAccuracy(),
                    100 * c.candidateAccuracy(), c.accuracyDropPoints().orElseThrow(), report.paramsBefore(),
                    report.paramsAfter(), Files.size(mnist.model()), Files.size(pruned), report.layers().stream()
                            .map(l -> l.name() + " " + l.channelsBefore() + "->" + l.channelsAfter()).toList());
            assertThat(report.layers()).filteredOn(l -> l.leftAlone() == null).extracting(StructuredPruner.Layer::name)
                    .containsExactly("Conv", "Conv_1", "Gemm");
            assertThat(report.paramsAfter()).isLessThan(report.paramsBefore());
            assertThat(c.samples()).isEqualTo(9744);
            assertThat(c.candidateAccuracy()).isGreaterThan(0.5); // it runs and still classifies; the figures are printed
        }
    }
}
