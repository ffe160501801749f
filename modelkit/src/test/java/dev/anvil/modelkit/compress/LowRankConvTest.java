package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Low rank of 1×1 convolutions: two 1×1 Convs through r channels. */
class LowRankConvTest {
    private static final long[] INPUT = {2, 16, 5, 5};

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    private static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static ValueInfoProto tensor(String name, String... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (String d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    /**
     * x[2,16,5,5] → pw (1×1, 16→24, rank 3, stride 2, pad 1, bias) → dw (3×3 depthwise, group 24) → small (1×1,
     * 24→4) → k3 (3×3, 4→4).
     */
    static OnnxModel model(int rank) {
        Random random = new Random(5);
        float[] a = new float[24 * rank];
        float[] b = new float[rank * 16];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        float[] pw = new float[24 * 16]; // a · b: rank `rank`
        for (int o = 0; o < 24; o++) {
            for (int i = 0; i < 16; i++) {
                for (int r = 0; r < rank; r++) {
                    pw[o * 16 + i] += a[o * rank + r] * b[r * 16 + i];
                }
            }
        }
        float[] bias = new float[24];
        for (int o = 0; o < 24; o++) {
            bias[o] = o * 0.1f - 1;
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("convs").addInput(tensor("x", "n", "c", "h", "w"))
                .addOutput(tensor("y", "n", "c", "h", "w"))
                .addInitializer(Tensors.floats("Wpw", new long[] {24, 16, 1, 1}, pw))
                .addInitializer(Tensors.floats("Bpw", new long[] {24}, bias))
                .addInitializer(Tensors.floats("Wdw", new long[] {24, 1, 3, 3}, gaussian(random, 24 * 9)))
                .addInitializer(Tensors.floats("Wsmall", new long[] {4, 24, 1, 1}, gaussian(random, 4 * 24)))
                .addInitializer(Tensors.floats("Wk3", new long[] {4, 4, 3, 3}, gaussian(random, 4 * 4 * 9)))
                .addNode(NodeProto.newBuilder().setOpType("Conv").setName("pw").addInput("x").addInput("Wpw")
                        .addInput("Bpw").addOutput("a").addAttribute(ints("kernel_shape", 1, 1))
                        .addAttribute(ints("strides", 2, 2)).addAttribute(ints("pads", 1, 1, 1, 1)))
                .addNode(NodeProto.newBuilder().setOpType("Conv").setName("dw").addInput("a").addInput("Wdw")
                        .addOutput("b").addAttribute(integer("group", 24)).addAttribute(ints("pads", 1, 1, 1, 1)))
                .addNode(NodeProto.newBuilder().setOpType("Conv").setName("small").addInput("b").addInput("Wsmall")
                        .addOutput("c"))
                .addNode(NodeProto.newBuilder().setOpType("Conv").setName("k3").addInput("c").addInput("Wk3")
                        .addOutput("y").addAttribute(ints("pads", 1, 1, 1, 1)));
        return CompressTestModels.model(g, 13);
    }

    private static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * 0.3f;
        }
        return v;
    }

    @Test
    void aRank3PointwiseConvBecomesTwoConvsThroughThreeChannelsWithTheSameOutput() throws Exception {
        float[] x = gaussian(new Random(9), (int) (INPUT[0] * INPUT[1] * INPUT[2] * INPUT[3]));
        float[] expected = CompressTestModels.run(model(3), x, INPUT);
        OnnxModel model = model(3);
        LowRankReport report = LowRankFactorizer.factorize(model, new LowRankOptions(0.999999, null, Map.of(), Set.of()));
        Map<String, LowRankReport.Layer> layers = new java.util.HashMap<>();
        report.layers().forEach(l -> layers.put(l.name(), l));
        assertThat(layers.get("pw")).satisfies(l -> {
            assertThat(l.leftAlone()).isNull();
            assertThat(l.rank()).isEqualTo(3);
            assertThat(l.rows()).isEqualTo(16);
            assertThat(l.columns()).isEqualTo(24);
            assertThat(l.paramsAfter()).isEqualTo(3 * (16 + 24));
        });
        // 24 → 4 is full rank 4: 4 × (24 + 4) > 96 saves nothing
        assertThat(layers.get("small").leftAlone()).contains("would not save");
        assertThat(layers.get("dw").leftAlone()).isEqualTo("not a 1×1 convolution with group 1");
        assertThat(layers.get("k3").leftAlone()).isEqualTo("not a 1×1 convolution with group 1");
        assertThat(model.graph().nodes().stream().filter(n -> n.getOpType().equals("Conv")).count()).isEqualTo(5);
        assertThat(model.graph().initializer("Wpw")).isEmpty();
        float[] actual = CompressTestModels.run(model, x, INPUT);
        assertThat(actual).hasSameSizeAs(expected);
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        assertThat(worst).isLessThan(1e-3);
    }

    @Test
    void aLowerRankApproximatesAndExplicitRanksAreChecked() throws Exception {
        float[] x = gaussian(new Random(9), (int) (INPUT[0] * INPUT[1] * INPUT[2] * INPUT[3]));
        OnnxModel model = model(6);
        float[] expected = CompressTestModels.run(model(6), x, INPUT);
        LowRankReport report = LowRankFactorizer.factorize(model, new LowRankOptions(null, null, Map.of("pw", 2), Set.of()));
        assertThat(report.layers()).filteredOn(l -> l.name().equals("pw")).singleElement()
                .satisfies(l -> assertThat(l.energyKept()).isBetween(0.3, 0.999));
        float[] actual = CompressTestModels.run(model, x, INPUT);
        double err = 0;
        double norm = 0;
        for (int i = 0; i < actual.length; i++) {
            err += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        assertThat(Math.sqrt(err / norm)).isBetween(1e-4, 1.0);
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model(3), new LowRankOptions(null, null, Map.of("dw", 2),
                Set.of()))).hasMessageContaining("'dw'").hasMessageContaining("not a 1×1 convolution");
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model(3), new LowRankOptions(null, null, Map.of("pw", 17),
                Set.of()))).hasMessageContaining("above its full rank 16");
    }
}
