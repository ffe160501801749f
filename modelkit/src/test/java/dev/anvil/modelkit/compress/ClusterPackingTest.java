package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Packed b-bit indices (b = 2 … 7, one stream per width) and per-layer bits: every form cluster writes runs in
 * ONNX Runtime, computes exactly what its dequantised float weights compute, and is read back by SharedWeights.
 */
class ClusterPackingTest {
    private static final float[] X = input(5, 16);

    private static float[] input(int rows, int cols) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.cos(i * 0.7) * 2;
        }
        return x;
    }

    private static float[] weights(int n, long seed) {
        return CompressTestModels.gaussian(n, seed);
    }

    /** x[b,16] → MatMul a [16,24] → Relu → MatMul b [24,21] → MatMul c [21,6] (Gemm with bias): 3 layers, odd counts. */
    private static OnnxModel chain(int opset) {
        return CompressTestModels.threeLayerChain(opset, 0);
    }

    /** The model with every shared weight replaced by the float values SharedWeights reads back. */
    private static OnnxModel unfolded(OnnxModel model) {
        OnnxModel copy = OnnxModel.of(model.proto().build());
        SharedWeights.unfold(copy);
        return copy;
    }

    @Test
    void packingRoundTripsEveryWidth() {
        Random r = new Random(7);
        for (int bits = 2; bits <= 7; bits++) {
            for (int n : new int[] {1, 7, 8, 9, 63, 250}) {
                byte[] indices = new byte[n];
                for (int i = 0; i < n; i++) {
                    indices[i] = (byte) r.nextInt(1 << bits);
                }
                byte[] stream = WeightClusterer.pack(indices, bits);
                assertThat(stream).hasSize(bits * ((n + 7) / 8));
                int[] back = WeightClusterer.unpack(stream, bits, n);
                for (int i = 0; i < n; i++) {
                    assertThat(back[i]).isEqualTo(indices[i] & 0xff);
                }
            }
        }
        // b = 3: index i at bits 3i … 3i+2, least significant first
        assertThat(WeightClusterer.pack(new byte[] {5, 3, 7}, 3)).containsExactly(0b11011101, 0b00000001, 0);
        assertThatThrownBy(() -> WeightClusterer.pack(new byte[] {8}, 3)).hasMessageContaining("does not fit in 3 bits");
    }

    @Test
    void everyWidthRunsInOnnxRuntimeExactlyAsItsDequantisedWeightsAndIsReadBack() throws Exception {
        for (int opset : new int[] {9, 13}) { // opset 9: Div/Mul/Sub and attribute forms; 13: Mod and input forms
            for (int b = 2; b <= 8; b++) {
                int bits = b;
                for (boolean perChannel : new boolean[] {false, true}) {
                    if (perChannel && bits > 4) {
                        continue; // these layers are too small for 2^b codebooks per channel: all would stay float
                    }
                    for (boolean uniform : new boolean[] {false, true}) {
                        String what = "opset " + opset + ", " + bits + " bits, per channel " + perChannel + ", uniform "
                                + uniform;
                        OnnxModel model = chain(opset);
                        ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(bits,
                                ClusterOptions.Init.KMEANS_PP, 3, perChannel, 30, Set.of(), uniform, true));
                        // per channel, a small layer's 2^b codebooks can outweigh its float weight: left alone
                        List<String> clustered = report.layers().stream().filter(l -> l.leftAlone() == null)
                                .map(ClusterReport.Layer::name).toList();
                        assertThat(clustered).as(what).isNotEmpty();
                        if (bits <= (perChannel ? 3 : 6)) { // above, the smallest layers stay float
                            assertThat(clustered).as(what).containsExactly("a", "b", "c");
                        }
                        assertThat(report.layers()).as(what).filteredOn(l -> l.leftAlone() == null).allSatisfy(l -> {
                            assertThat(l.packedIndices()).isEqualTo(bits < 8);
                            assertThat(l.bits()).isEqualTo(bits);
                        });
                        long streams = model.graph().initializers().keySet().stream().filter(n -> n.matches("q\\d")).count();
                        assertThat(streams).as(what).isEqualTo(bits < 8 ? 1 : 0);
                        Map<String, SharedWeights.Shared> shared = SharedWeights.of(model);
                        assertThat(shared.keySet()).as(what).containsExactlyElementsOf(clustered);
                        for (SharedWeights.Shared s : shared.values()) {
                            assertThat(s.clusters()).as(what).isLessThanOrEqualTo(1 << bits);
                            assertThat(s.channels()).as(what).isEqualTo(perChannel ? (int) s.dims()[1] : 1);
                        }
                        float[] packed = CompressTestModels.run(model, X, 5, 16);
                        OnnxModel floats = unfolded(model);
                        assertThat(SharedWeights.of(floats)).isEmpty();
                        assertThat(floats.graph().nodes()).as(what).hasSize(4); // a, relu, b, c: the rebuilds are gone
                        assertThat(CompressTestModels.run(floats, X, 5, 16)).as(what).containsExactly(packed);
                    }
                }
            }
        }
    }

    @Test
    void packedIndicesAreSmallerAndTheStreamIsSharedByTheLayersOfOneWidth() throws Exception {
        OnnxModel one = chain(13);
        WeightClusterer.cluster(one, new ClusterOptions(3, ClusterOptions.Init.LINEAR, 0, false, 30, Set.of()));
        OnnxModel packed = chain(13);
        ClusterReport report = WeightClusterer.cluster(packed, new ClusterOptions(3, ClusterOptions.Init.LINEAR, 0, false,
                30, Set.of(), false, true));
        // 16·24 + 24·21 + 21·6 = 1,014 indices at 3 bits: 127 groups of 8, 381 bytes, in one initializer
        TensorProto stream = packed.graph().initializer("q3").orElseThrow();
        assertThat(Tensors.dims(stream)).containsExactly(127, 3);
        assertThat(packed.graph().nodes().stream().filter(n -> n.getOpType().equals("Split")).count()).isOne();
        assertThat(report.layers().stream().mapToLong(ClusterReport.Layer::bytesAfter).sum())
                .isEqualTo(report.weightBytesAfter());
        assertThat(packed.toBytes().length).isLessThan(one.toBytes().length);
        assertThat(CompressTestModels.run(packed, X, 5, 16)).containsExactly(CompressTestModels.run(one, X, 5, 16));
    }

    @Test
    void perLayerBitsMakeOneStreamPerWidth() throws Exception {
        OnnxModel model = chain(13);
        ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, false,
                30, Set.of(), false, true, Map.of("a", 2, "c", 5), false));
        assertThat(report.layers()).extracting(ClusterReport.Layer::bits).containsExactly(2, 4, 5);
        assertThat(report.layers()).extracting(ClusterReport.Layer::clusters).containsExactly(4, 16, 32);
        assertThat(model.graph().initializers().keySet()).contains("q2", "q4", "q5");
        Map<String, SharedWeights.Shared> shared = SharedWeights.of(model);
        assertThat(shared.get("a").clusters()).isEqualTo(4);
        assertThat(shared.get("c").clusters()).isEqualTo(32);
        float[] y = CompressTestModels.run(model, X, 5, 16);
        assertThat(CompressTestModels.run(unfolded(model), X, 5, 16)).containsExactly(y);
        assertThat(model.proto().getMetadataPropsList()).anySatisfy(p -> assertThat(p.getValue())
                .contains("bits by layer {a=2, c=5}"));
    }

    @Test
    void codebookFromReadsAPackedReference() throws Exception {
        OnnxModel reference = chain(13);
        WeightClusterer.cluster(reference, new ClusterOptions(3, ClusterOptions.Init.LINEAR, 0, true, 30, Set.of(), false,
                true));
        Map<String, SharedWeights.Shared> before = SharedWeights.of(reference);
        OnnxModel tuned = unfolded(reference);
        ClusterReport report = WeightClusterer.applyCodebook(tuned, reference, false);
        assertThat(report.layers()).hasSize(3);
        Map<String, SharedWeights.Shared> after = SharedWeights.of(tuned);
        for (String layer : List.of("a", "b", "c")) {
            assertThat(after.get(layer).indices()).isEqualTo(before.get(layer).indices());
            assertThat(after.get(layer).values()).isEqualTo(before.get(layer).values());
        }
        assertThat(CompressTestModels.run(tuned, X, 5, 16)).containsExactly(CompressTestModels.run(reference, X, 5, 16));
    }

    @Test
    void unpackedUniformCodebooksAreReadBackToo() throws Exception {
        OnnxModel model = chain(13);
        ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, false,
                30, Set.of(), true, false));
        assertThat(report.layers()).allSatisfy(l -> assertThat(l.storage()).isEqualTo(ClusterReport.SCALE_ZERO_POINT));
        assertThat(SharedWeights.of(model)).hasSize(3);
        float[] y = CompressTestModels.run(model, X, 5, 16);
        assertThat(CompressTestModels.run(unfolded(model), X, 5, 16)).containsExactly(y);
    }

    @Test
    void aZeroCentroidKeepsPrunedWeightsAtZero() {
        OnnxModel model = chain(13);
        MagnitudePruner.prune(model, PruneOptions.uniform(0.5));
        float[] pruned = Tensors.toFloats(model.graph().initializer("B").orElseThrow());
        WeightClusterer.cluster(model, new ClusterOptions(3, ClusterOptions.Init.LINEAR, 0, false, 30, Set.of(), false,
                true, Map.of(), true));
        float[] shared = SharedWeights.of(model).get("b").values();
        long zeros = 0;
        for (int i = 0; i < pruned.length; i++) {
            if (pruned[i] == 0f) {
                assertThat(shared[i]).isZero();
                zeros++;
            }
        }
        assertThat(zeros).isGreaterThanOrEqualTo(pruned.length / 2);
        assertThat(SharedWeights.of(model).get("b").codebook()).contains(0f);
    }

    /**
     * The target on cnn_mnist (opset 13, as bench/compress.sh raises it): 4 bits per tensor for Conv, Conv_1 and
     * Gemm_1, 2 bits for Gemm (16,000 of the 21,840 weights), packed. At least 8× smaller than the float file within one
     * point on the 9,744 held-out images, and bit for bit what its dequantised float weights compute in ONNX Runtime.
     */
    @Test
    void cnnMnistIsEightTimesSmallerWithinAPoint(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        OnnxModel fp32 = OnnxModel.read(mnist.model());
        fp32.setOpset("", 13);
        fp32.proto().setIrVersion(7);
        java.nio.file.Path reference = dir.resolve("fp32.onnx");
        fp32.write(reference);
        OnnxModel model = OnnxModel.read(reference);
        ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, false, 50,
                Set.of(), false, true, Map.of("Gemm", 2), false));
        java.nio.file.Path out = dir.resolve("packed.onnx");
        model.write(out);
        dev.anvil.modelkit.evaluate.ModelComparator.Comparison c = new dev.anvil.modelkit.evaluate.ModelComparator(
                CompressTestModels.ENV).compare(out, reference, mnist.evaluation(),
                dev.anvil.modelkit.evaluate.ModelComparator.Pooling.NONE, 64, 0, (d, t) -> { });
        long before = java.nio.file.Files.size(reference);
        long after = java.nio.file.Files.size(out);
        System.out.printf("cnn_mnist packed, bits Conv 4, Conv_1 4, Gemm 2, Gemm_1 4 (per tensor): %d -> %d bytes (%.3fx),"
                + " top-1 %.2f%% -> %.2f%% (drop %.2f points), agreement %.4f, %d images, layers %s%n", before, after,
                (double) before / after, 100 * c.referenceAccuracy(), 100 * c.candidateAccuracy(),
                c.accuracyDropPoints().orElseThrow(), c.top1Agreement(), c.samples(),
                report.layers().stream().map(l -> l.name() + " " + l.bits() + " bits " + l.bytesAfter() + " B").toList());
        assertThat(c.samples()).isEqualTo(9744);
        assertThat((double) before / after).isGreaterThanOrEqualTo(8.0);
        assertThat(c.accuracyDropPoints().orElseThrow()).isLessThanOrEqualTo(1.0);
        // the packed file computes exactly what its dequantised float weights compute
        float[] image = new float[28 * 28];
        for (int i = 0; i < image.length; i++) {
            image[i] = (float) Math.abs(Math.sin(i * 0.05));
        }
        OnnxModel floats = unfolded(model);
        assertThat(SharedWeights.of(model).keySet()).containsExactly("Conv", "Conv_1", "Gemm", "Gemm_1");
        assertThat(CompressTestModels.run(model, image, 1, 1, 28, 28))
                .containsExactly(CompressTestModels.run(floats, image, 1, 1, 28, 28));
    }

    @Test
    void badBitsAreRefusedNamingTheLayer() {
        for (int bad : new int[] {1, 9}) {
            assertThatThrownBy(() -> new ClusterOptions(bad, ClusterOptions.Init.LINEAR, 0, false, 5, Set.of()))
                    .hasMessage("bits must be 2 to 8 (k = 2^bits shared values, stored as uint8 indices), got " + bad);
            assertThatThrownBy(() -> new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, false, 5, Set.of(), false, true,
                    Map.of("b", bad), false))
                    .hasMessage("bits of layer 'b' must be 2 to 8 (k = 2^bits shared values), got " + bad);
        }
        assertThatThrownBy(() -> new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, false, 5, Set.of("b"), false, true,
                Map.of("b", 3), false)).hasMessage("layer 'b' is both skipped and given bits; choose one");
        assertThatThrownBy(() -> WeightClusterer.cluster(chain(13), new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0,
                false, 5, Set.of(), false, true, Map.of("nope", 3), false))).hasMessageContaining("nope");
    }
}
