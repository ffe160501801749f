package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The fine-tuning hook: a pruned or clustered cnn_mnist is "fine-tuned" (every weight moved, in process, as a
 * trainer would move them, zeros included) and the earlier mask or codebook is imposed again, exactly.
 */
class FineTuneHooksTest {

    static OnnxModel cnnMnist() throws Exception {
        return OnnxModel.read(SharedData.cnnMnist());
    }

    static OnnxModel copy(OnnxModel model) {
        return OnnxModel.parse(model.toBytes());
    }

    /** Moves every layer weight by a small amount that differs from weight to weight, as a few SGD steps would. */
    static void fineTune(OnnxModel model) {
        for (WeightLayers.Layer layer : WeightLayers.of(model)) {
            float[] w = Tensors.toFloats(model.graph().initializer(layer.weight()).orElseThrow());
            for (int i = 0; i < w.length; i++) {
                w[i] += 0.003f * ((i * 7919) % 11 - 5) + 0.0001f;
            }
            WeightLayers.replace(model.graph(), layer.weight(), w);
        }
    }

    static Map<String, float[]> weights(OnnxModel model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (WeightLayers.Layer layer : WeightLayers.of(model)) {
            out.put(layer.name(), Tensors.toFloats(model.graph().initializer(layer.weight()).orElseThrow()));
        }
        return out;
    }

    @Test
    void theMaskOfAnEarlierPruneIsImposedExactlyAfterFineTuning() throws Exception {
        OnnxModel pruned = cnnMnist();
        MagnitudePruner.prune(pruned, new PruneOptions(0.8, true, Map.of(), Set.of()));
        OnnxModel tuned = copy(pruned);
        fineTune(tuned);
        Map<String, float[]> moved = weights(tuned);
        assertThat(MagnitudePruner.countZeros(moved.get("Gemm"))).as("fine-tuning moved the pruned weights").isZero();

        PruneReport report = MagnitudePruner.applyMask(tuned, pruned);

        Map<String, float[]> mask = weights(pruned);
        Map<String, float[]> after = weights(tuned);
        assertThat(after.keySet()).containsExactly("Conv", "Conv_1", "Gemm", "Gemm_1");
        for (String layer : mask.keySet()) {
            float[] m = mask.get(layer);
            float[] a = after.get(layer);
            for (int i = 0; i < m.length; i++) {
                // the same zeros, and every surviving weight keeps its fine-tuned value
                assertThat(a[i]).as(layer + "[" + i + "]").isEqualTo(m[i] == 0f ? 0f : moved.get(layer)[i]);
            }
        }
        assertThat(report.zeros()).isEqualTo(mask.values().stream().mapToLong(MagnitudePruner::countZeros).sum());
        assertThat(report.sparsity()).isBetween(0.799, 0.801);
        assertThat(report.layers()).noneMatch(PruneReport.Layer::skipped);
    }

    @Test
    void theCodebookAndIndicesOfAnEarlierClusteringAreImposedExactlyAfterFineTuning() throws Exception {
        for (boolean perChannel : new boolean[] {false, true}) {
            OnnxModel clustered = cnnMnist();
            WeightClusterer.cluster(clustered, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, perChannel, 50, Set.of()));
            Map<String, SharedWeights.Shared> before = SharedWeights.of(clustered);
            assertThat(before.keySet()).containsExactly("Conv", "Conv_1", "Gemm", "Gemm_1");

            OnnxModel tuned = copy(clustered);
            assertThat(SharedWeights.unfold(tuned)).containsExactly("Conv", "Conv_1", "Gemm", "Gemm_1");
            fineTune(tuned);
            Map<String, float[]> moved = weights(tuned);

            OnnxModel kept = copy(tuned);
            ClusterReport report = WeightClusterer.applyCodebook(kept, clustered, false);
            Map<String, SharedWeights.Shared> after = SharedWeights.of(kept);
            assertThat(report.layers()).hasSize(4);
            assertThat(report.bits()).isEqualTo(4);
            for (String layer : before.keySet()) {
                assertThat(after.get(layer).indices()).as(layer + " indices").isEqualTo(before.get(layer).indices());
                assertThat(after.get(layer).codebook()).as(layer + " codebook").isEqualTo(before.get(layer).codebook());
                assertThat(after.get(layer).channels()).isEqualTo(before.get(layer).channels());
            }

            OnnxModel refitted = copy(tuned);
            WeightClusterer.applyCodebook(refitted, clustered, true);
            Map<String, SharedWeights.Shared> refit = SharedWeights.of(refitted);
            for (String layer : before.keySet()) {
                SharedWeights.Shared s = refit.get(layer);
                assertThat(s.indices()).as(layer + " indices").isEqualTo(before.get(layer).indices());
                float[] w = moved.get(layer);
                double[] sum = new double[s.codebook().length];
                int[] count = new int[s.codebook().length];
                for (int i = 0; i < w.length; i++) {
                    sum[s.indices()[i]] += w[i];
                    count[s.indices()[i]]++;
                }
                for (int j = 0; j < sum.length; j++) {
                    float expected = count[j] == 0 ? before.get(layer).codebook()[j] : (float) (sum[j] / count[j]);
                    assertThat(s.codebook()[j]).as(layer + " centroid " + j).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void unfoldingSharedWeightsLeavesTheOutputsBitForBit() throws Exception {
        float[] w = new float[32 * 6];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.sin(i * 0.37);
        }
        float[] x = new float[4 * 32];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 13) * 0.25f - 1.5f;
        }
        for (boolean perChannel : new boolean[] {false, true}) {
            OnnxModel shared = CompressTestModels.gemm(w, 32, 6, false, new float[6]);
            WeightClusterer.cluster(shared, new ClusterOptions(3, ClusterOptions.Init.LINEAR, 0, perChannel, 50, Set.of()));
            float[] expected = CompressTestModels.run(shared, x, 4, 32);
            OnnxModel unfolded = copy(shared);

            assertThat(SharedWeights.unfold(unfolded)).containsExactly("fc");

            assertThat(unfolded.graph().nodes()).extracting(n -> n.getOpType()).containsExactly("Gemm");
            assertThat(SharedWeights.of(unfolded)).isEmpty();
            assertThat(CompressTestModels.run(unfolded, x, 4, 32)).containsExactly(expected);
        }
    }

    @Test
    void referencesThatDoNotFitAreRefusedNamingTheLayer() throws Exception {
        OnnxModel other = CompressTestModels.gemm(new float[] {1, 2, 3, 4}, 2, 2, false, null);
        assertThatThrownBy(() -> MagnitudePruner.applyMask(cnnMnist(), other))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[fc]")
                .hasMessageContaining("[Conv, Conv_1, Gemm, Gemm_1]");
        assertThatThrownBy(() -> WeightClusterer.applyCodebook(cnnMnist(), cnnMnist(), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no clustered weights");
        OnnxModel structured = cnnMnist();
        StructuredPruner.prune(structured, new StructuredPruner.Options(0.25, Map.of(), Set.of(), false));
        assertThatThrownBy(() -> MagnitudePruner.applyMask(cnnMnist(), structured))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer 'Conv' has shape")
                .hasMessageContaining("in the mask_from model");
        OnnxModel clustered = cnnMnist();
        WeightClusterer.cluster(clustered, ClusterOptions.of(4));
        assertThatThrownBy(() -> WeightClusterer.applyCodebook(structured, clustered, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has shape");
    }

    @Test
    void theParetoFrontKeepsWhatNothingBeatsAndTheChoiceIsOnIt() {
        List<ParetoFront.Costs> c = List.of(
                new ParetoFront.Costs(100, 0.0, 1.0),   // the float model: most accurate
                new ParetoFront.Costs(50, 0.4, 1.1),    // smaller, a little worse
                new ParetoFront.Costs(60, 0.5, 1.2),    // beaten by the one above on every cost
                new ParetoFront.Costs(20, 3.0, null),   // smallest; latency not measured
                new ParetoFront.Costs(50, 0.4, 0.9));   // ties on size and drop, faster: beats the second

        assertThat(ParetoFront.onFront(c)).containsExactly(true, false, false, true, true);
        assertThat(ParetoFront.choose(c, 100, 1.0, 0.6, ParetoFront.Prefer.SIZE)).contains(4);
        assertThat(ParetoFront.choose(c, 100, 1.0, 1.0, ParetoFront.Prefer.ACCURACY)).contains(0);
        assertThat(ParetoFront.choose(c, 100, 5.0, 1.0, ParetoFront.Prefer.SIZE)).contains(3);
        assertThat(ParetoFront.choose(c, 100, 0.1, 0.6, ParetoFront.Prefer.SIZE)).isEmpty();
        assertThatThrownBy(() -> ParetoFront.Prefer.parse("speed")).hasMessageContaining("size, accuracy or latency");
    }
}
