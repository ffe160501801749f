package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LowRankTest {
    @TempDir
    Path dir;

    @Test
    void svdOfAKnownDecomposition() {
        // A = R(30°) · diag(5, 2) · R(45°)ᵀ, so σ = {5, 2}, and u₁ = (cos 30°, sin 30°), v₁ = (cos 45°, sin 45°)
        double a = Math.toRadians(30);
        double b = Math.toRadians(45);
        double[][] u = {{Math.cos(a), -Math.sin(a)}, {Math.sin(a), Math.cos(a)}};
        double[][] v = {{Math.cos(b), -Math.sin(b)}, {Math.sin(b), Math.cos(b)}};
        double[] s = {5, 2};
        double[] m = new double[4];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 2; k++) {
                    m[i * 2 + j] += u[i][k] * s[k] * v[j][k];
                }
            }
        }
        JacobiSvd.Result r = JacobiSvd.of(m, 2, 2);
        assertThat(r.s()).containsExactly(new double[] {5, 2}, offset(1e-9));
        double sign = Math.signum(r.u()[0]);
        assertThat(sign * r.u()[0]).isCloseTo(Math.cos(a), offset(1e-9));
        assertThat(sign * r.u()[2]).isCloseTo(Math.sin(a), offset(1e-9));
        assertThat(sign * r.v()[0]).isCloseTo(Math.cos(b), offset(1e-9));
        assertThat(sign * r.v()[2]).isCloseTo(Math.sin(b), offset(1e-9));
    }

    @Test
    void svdReconstructsRandomMatricesOfEitherShape() {
        Random random = new Random(3);
        for (int[] shape : new int[][] {{20, 7}, {7, 20}, {16, 16}}) {
            int m = shape[0];
            int n = shape[1];
            double[] a = new double[m * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextGaussian();
            }
            JacobiSvd.Result r = JacobiSvd.of(a, m, n);
            int p = r.p();
            for (int i = 1; i < p; i++) {
                assertThat(r.s()[i]).isLessThanOrEqualTo(r.s()[i - 1]);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int k = 0; k < p; k++) {
                        sum += r.u()[i * p + k] * r.s()[k] * r.v()[j * p + k];
                    }
                    assertThat(sum).isCloseTo(a[i * n + j], offset(1e-9));
                }
            }
        }
    }

    @Test
    void aRankTwoGemmWithTransBBiasAndAlphaIsFactorisedExactly() throws Exception {
        int k = 12;
        int n = 9;
        Random random = new Random(5);
        float[] w = new float[n * k]; // transB: stored [n, k]
        double[][] left = {new double[n], new double[n]};
        double[][] right = {new double[k], new double[k]};
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < n; i++) {
                left[r][i] = random.nextGaussian();
            }
            for (int j = 0; j < k; j++) {
                right[r][j] = random.nextGaussian();
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                w[i * k + j] = (float) (left[0][i] * right[0][j] + left[1][i] * right[1][j]);
            }
        }
        float[] bias = new float[n];
        for (int i = 0; i < n; i++) {
            bias[i] = i - 4;
        }
        OnnxModel model = CompressTestModels.gemm(w, k, n, true, bias);
        model.proto().getGraphBuilder().getNodeBuilder(0).addAttribute(
                dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("alpha")
                        .setType(dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.AttributeType.FLOAT).setF(0.5f));
        float[] x = new float[4 * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] expected = CompressTestModels.run(model, x, 4, k);
        LowRankReport report = LowRankFactorizer.factorize(model, LowRankOptions.energy(0.999999));
        assertThat(report.layers()).singleElement().satisfies(l -> {
            assertThat(l.rank()).isEqualTo(2);
            assertThat(l.fullRank()).isEqualTo(9);
            assertThat(l.paramsBefore()).isEqualTo(108);
            assertThat(l.paramsAfter()).isEqualTo(2 * (12 + 9));
            assertThat(l.leftAlone()).isNull();
        });
        assertThat(CompressTestModels.run(model, x, 4, k)).containsExactly(expected, offset(1e-4f));
    }

    @Test
    void aLayerWhereTheRankSavesNothingIsLeftAlone() throws Exception {
        Random random = new Random(9);
        float[] w = new float[6 * 5];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        OnnxModel model = CompressTestModels.matmul(w, 6, 5);
        byte[] before = model.toBytes();
        LowRankReport report = LowRankFactorizer.factorize(model, LowRankOptions.energy(0.99));
        assertThat(report.layers().get(0).leftAlone()).contains("would not save");
        assertThat(report.paramsAfter()).isEqualTo(report.paramsBefore());
        assertThat(model.graph().initializer("W")).isPresent();
        assertThat(model.graph().nodes()).hasSize(1);
        assertThat(before.length).isPositive();
    }

    @Test
    void badInputIsRefused() {
        assertThatThrownBy(() -> LowRankOptions.energy(1.5)).hasMessageContaining("energy").hasMessageContaining("1.5");
        assertThatThrownBy(() -> LowRankOptions.paramRatio(1.0)).hasMessageContaining("param_ratio");
        assertThatThrownBy(() -> new LowRankOptions(null, null, Map.of("fc", 0), Set.of())).hasMessageContaining("at least 1");
        OnnxModel model = CompressTestModels.gemm(new float[] {1, 2, 3, 4, 5, 6}, 2, 3, false, null);
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, new LowRankOptions(null, null, Map.of("fc", 5), Set.of())))
                .hasMessageContaining("above its full rank 2");
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, new LowRankOptions(null, null, Map.of("nope", 1), Set.of())))
                .hasMessageContaining("[nope]").hasMessageContaining("[fc]");
        assertThatThrownBy(() -> LowRankFactorizer.factorize(CompressTestModels.withIf(), LowRankOptions.energy(0.9)))
                .hasMessageContaining("branchy (If)");
    }

    @Test
    void cnnMnistGemmLayersByParameterBudget() throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        OnnxModel model = OnnxModel.read(mnist.model());
        LowRankReport report = LowRankFactorizer.factorize(model, LowRankOptions.paramRatio(0.5));
        Path factorised = dir.resolve("lowrank.onnx");
        model.write(factorised);
        ModelComparator.Comparison c = new ModelComparator(CompressTestModels.ENV).compare(factorised, mnist.model(),
                mnist.evaluation(), ModelComparator.Pooling.NONE, 64, 0, (done, total) -> {});
        System.out.printf("cnn_mnist low rank, param_ratio 0.5: float %.2f%%, factorised %.2f%%, drop %.2f pt, agreement"
                + " %.4f, Gemm params %d -> %d, layers %s%n", 100 * c.referenceAccuracy(), 100 * c.candidateAccuracy(),
                c.accuracyDropPoints().orElseThrow(), c.top1Agreement(), report.paramsBefore(), report.paramsAfter(),
                report.layers().stream().map(l -> l.name() + ":" + (l.leftAlone() == null ? "rank " + l.rank() + "/"
                        + l.fullRank() : l.leftAlone())).toList());
        assertThat(report.paramRatio()).isLessThanOrEqualTo(0.5);
        assertThat(c.samples()).isEqualTo(9744);
        assertThat(c.accuracyDropPoints().orElseThrow()).isLessThanOrEqualTo(2.0);
    }
}
