package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterTest {
    @TempDir
    Path dir;

    @Test
    void aTensorOfFourDistinctValuesIsRebuiltExactlyInOnnxRuntime() throws Exception {
        float[] w = new float[64 * 8];
        float[] values = {-1.5f, 0.25f, 2f, 7f};
        for (int i = 0; i < w.length; i++) {
            w[i] = values[(i + i / 8) % 4]; // every column (channel) holds all four
        }
        float[] x = new float[3 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 11) - 5;
        }
        OnnxModel original = CompressTestModels.gemm(w, 64, 8, false, new float[8]);
        float[] expected = CompressTestModels.run(original, x, 3, 64);
        for (int bits : new int[] {2, 4}) {
            for (boolean perChannel : new boolean[] {false, true}) {
                OnnxModel model = CompressTestModels.gemm(w, 64, 8, false, new float[8]);
                ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(bits,
                        ClusterOptions.Init.KMEANS_PP, 7, perChannel, 50, Set.of()));
                assertThat(report.layers()).singleElement().satisfies(l -> {
                    assertThat(l.meanSquaredError()).isZero();
                    assertThat(l.clusters()).isEqualTo(4);
                    assertThat(l.leftAlone()).isNull();
                });
                assertThat(model.graph().initializer("W")).isEmpty();
                assertThat(CompressTestModels.run(model, x, 3, 64)).containsExactly(expected);
            }
        }
    }

    @Test
    void kMeansFindsWellSeparatedClustersWithEitherInit() {
        float[] v = new float[300];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 3) * 10 + (i % 7) * 0.01f;
        }
        for (ClusterOptions.Init init : ClusterOptions.Init.values()) {
            float[] c = KMeans1d.fit(v, 4, init, 1, 100);
            assertThat(c).hasSize(4);
            assertThat(KMeans1d.nearest(c, 0.03f)).isNotEqualTo(KMeans1d.nearest(c, 10.03f));
            assertThat(KMeans1d.nearest(c, 10.03f)).isNotEqualTo(KMeans1d.nearest(c, 20.03f));
        }
    }

    @Test
    void badInputIsRefused() {
        assertThatThrownBy(() -> ClusterOptions.of(9)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bits must be 2 to 8").hasMessageContaining("9");
        assertThatThrownBy(() -> ClusterOptions.of(1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterOptions.Init.parse("random")).hasMessageContaining("linear or kmeans++");
        assertThatThrownBy(() -> WeightClusterer.cluster(CompressTestModels.withIf(), ClusterOptions.of(4)))
                .hasMessageContaining("branchy (If)");
        OnnxModel model = CompressTestModels.gemm(new float[] {1, 2, 3, 4}, 2, 2, false, null);
        assertThatThrownBy(() -> WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0,
                false, 10, Set.of("nope")))).hasMessageContaining("[nope]");
    }

    @Test
    void cnnMnistAtFourBitsKeepsAccuracyAndShrinks() throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        for (boolean perChannel : new boolean[] {false, true}) {
            OnnxModel model = OnnxModel.read(mnist.model());
            ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0,
                    perChannel, 50, Set.of()));
            Path clustered = dir.resolve("clustered-" + perChannel + ".onnx");
            model.write(clustered);
            ModelComparator.Comparison c = new ModelComparator(CompressTestModels.ENV).compare(clustered, mnist.model(),
                    mnist.evaluation(), ModelComparator.Pooling.NONE, 64, 0, (done, total) -> {});
            double ratio = (double) Files.size(clustered) / Files.size(mnist.model());
            System.out.printf("cnn_mnist clustered 4 bits %s: float %.2f%%, clustered %.2f%%, drop %.2f pt, agreement"
                    + " %.4f, size %d -> %d bytes (%.1f%%), weights %d -> %d bytes%n",
                    perChannel ? "per channel" : "per tensor", 100 * c.referenceAccuracy(), 100 * c.candidateAccuracy(),
                    c.accuracyDropPoints().orElseThrow(), c.top1Agreement(), Files.size(mnist.model()),
                    Files.size(clustered), 100 * ratio, report.weightBytesBefore(), report.weightBytesAfter());
            assertThat(c.samples()).isEqualTo(9744);
            assertThat(c.accuracyDropPoints().orElseThrow()).isLessThanOrEqualTo(0.5);
            // per channel adds a 16-value codebook per output channel
            assertThat(ratio).isLessThan(perChannel ? 0.36 : 0.30);
        }
    }
}
