package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Structured pruning across a residual Add (both sides together, or left alone with the reason) and a Concat (offsets). */
class StructuredBranchesTest {
    private static final long[] INPUT = {2, 4, 6, 6};

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    private static ValueInfoProto tensor(String name) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (String d : new String[] {"n", "c", "h", "w"}) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    /** Random weights [out, in, k, k] whose output channels in {@code dead} are all zero (and their bias). */
    private static float[][] conv(Random random, int out, int in, int k, Set<Integer> dead) {
        float[] w = new float[out * in * k * k];
        float[] b = new float[out];
        for (int o = 0; o < out; o++) {
            if (dead.contains(o)) {
                continue;
            }
            b[o] = (float) random.nextGaussian() * 0.1f;
            for (int i = 0; i < in * k * k; i++) {
                w[o * in * k * k + i] = (float) random.nextGaussian() * 0.3f;
            }
        }
        return new float[][] {w, b};
    }

    /**
     * x → A (3×3, 4→8) → Relu → r; B (1×1, 8→8) on r; s = Add(B, r) (a residual); C (3×3, 8→6) on s → Relu;
     * D (1×1, 8→4) on s; Concat(C, D) on channels → E (1×1, 10→3) → y. A's and B's channels 2, 5, 6 and 7 (so
     * those of the sum), C's 3–5 and D's 1 and 3 are zero, so removing them leaves y exactly as it was.
     */
    static OnnxModel model() {
        Random random = new Random(11);
        GraphProto.Builder g = GraphProto.newBuilder().setName("branches").addInput(tensor("x")).addOutput(tensor("y"));
        Object[][] convs = {
            {"A", "x", "a", 8, 4, 3, Set.of(2, 5, 6, 7)},
            {"B", "r", "b", 8, 8, 1, Set.of(2, 5, 6, 7)},
            {"C", "s", "c", 6, 8, 3, Set.of(3, 4, 5)},
            {"D", "s", "d", 4, 8, 1, Set.of(1, 3)},
            {"E", "cat", "y", 3, 10, 1, Set.of()},
        };
        for (Object[] c : convs) {
            @SuppressWarnings("unchecked")
            float[][] wb = conv(random, (int) c[3], (int) c[4], (int) c[5], (Set<Integer>) c[6]);
            String name = (String) c[0];
            g.addInitializer(Tensors.floats("W" + name, new long[] {(int) c[3], (int) c[4], (int) c[5], (int) c[5]}, wb[0]));
            g.addInitializer(Tensors.floats("B" + name, new long[] {(int) c[3]}, wb[1]));
            int pad = ((int) c[5] - 1) / 2;
            g.addNode(NodeProto.newBuilder().setOpType("Conv").setName(name).addInput((String) c[1]).addInput("W" + name)
                    .addInput("B" + name).addOutput((String) c[2]).addAttribute(ints("pads", pad, pad, pad, pad)));
        }
        g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("reluA").addInput("a").addOutput("r"));
        g.addNode(NodeProto.newBuilder().setOpType("Add").setName("residual").addInput("b").addInput("r").addOutput("s"));
        g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("reluC").addInput("c").addOutput("cr"));
        g.addNode(NodeProto.newBuilder().setOpType("Concat").setName("join").addInput("cr").addInput("d").addOutput("cat")
                .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1)));
        OnnxModel model = CompressTestModels.model(g, 13);
        model.graph().sortTopologically();
        return model;
    }

    @Test
    void concatInputsArePrunedAtTheirOffsetsAndBothSidesOfAResidualTogether() throws Exception {
        float[] x = new float[(int) (INPUT[0] * INPUT[1] * INPUT[2] * INPUT[3])];
        Random random = new Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] expected = CompressTestModels.run(model(), x, INPUT);
        OnnxModel model = model();
        StructuredPruner.Report report = StructuredPruner.prune(model, new StructuredPruner.Options(0.5, Map.of(),
                Set.of(), false));
        Map<String, StructuredPruner.Layer> layers = new HashMap<>();
        report.layers().forEach(l -> layers.put(l.name(), l));
        // A and B lose the same (dead) channels, and so do B's, C's and D's inputs from r and the sum
        assertThat(layers.get("A")).satisfies(l -> {
            assertThat(l.leftAlone()).isNull();
            assertThat(l.channelsAfter()).isEqualTo(4);
            assertThat(l.consumer()).isEqualTo("B, C, D (the same channels as B)");
            assertThat(l.importance()).isEqualTo("norm");
        });
        assertThat(layers.get("B")).satisfies(l -> {
            assertThat(l.leftAlone()).isNull();
            assertThat(l.channelsAfter()).isEqualTo(4);
            assertThat(l.consumer()).isEqualTo("B, C, D (the same channels as A)");
        });
        assertThat(Tensors.dims(model.graph().initializer("WA").orElseThrow())).containsExactly(4, 4, 3, 3);
        assertThat(Tensors.dims(model.graph().initializer("WB").orElseThrow())).containsExactly(4, 4, 1, 1);
        assertThat(Tensors.dims(model.graph().initializer("WC").orElseThrow())).containsExactly(3, 4, 3, 3);
        assertThat(Tensors.dims(model.graph().initializer("WD").orElseThrow())).containsExactly(2, 4, 1, 1);
        assertThat(layers.get("C")).satisfies(l -> {
            assertThat(l.leftAlone()).isNull();
            assertThat(l.channelsAfter()).isEqualTo(3);
            assertThat(l.consumer()).isEqualTo("E");
        });
        assertThat(layers.get("D")).satisfies(l -> {
            assertThat(l.leftAlone()).isNull();
            assertThat(l.channelsAfter()).isEqualTo(2);
            assertThat(l.consumer()).isEqualTo("E");
        });
        assertThat(layers.get("E").leftAlone()).isNotNull();
        assertThat(Tensors.dims(model.graph().initializer("WE").orElseThrow())).containsExactly(3, 5, 1, 1);
        // the zero channels went: E reads C's 0–2 at 0–2 and D's 0 and 2 at 3–4, so y is unchanged
        float[] actual = CompressTestModels.run(model, x, INPUT);
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
        assertThat(report.paramsAfter()).isLessThan(report.paramsBefore());
    }

    @Test
    void byActivationTheResidualGroupLosesTheChannelsSilentOnBothSides(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        int n = 24;
        float[] x = new float[(int) (n * INPUT[1] * INPUT[2] * INPUT[3])];
        Random random = new Random(8);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        java.nio.file.Path data = dir.resolve("x.zip");
        dev.anvil.modelkit.datasets.DatasetWriter.write(data, new dev.anvil.modelkit.datasets.Dataset(Map.of("x",
                dev.anvil.modelkit.datasets.NpyArray.ofFloat32(new long[] {n, INPUT[1], INPUT[2], INPUT[3]}, x)),
                java.util.Optional.empty()));
        float[] probe = java.util.Arrays.copyOf(x, (int) (INPUT[0] * INPUT[1] * INPUT[2] * INPUT[3]));
        float[] expected = CompressTestModels.run(model(), probe, INPUT);
        OnnxModel model = model();
        StructuredPruner.Report report;
        try (var reader = dev.anvil.modelkit.datasets.DatasetReader.open(data)) {
            report = StructuredPruner.prune(model, new StructuredPruner.Options(0.5, Map.of(), Set.of(), false,
                    StructuredPruner.Importance.ACTIVATION), new ChannelActivations(CompressTestModels.ENV, reader, n));
        }
        assertThat(report.layers()).filteredOn(l -> Set.of("A", "B").contains(l.name())).hasSize(2).allSatisfy(l -> {
            assertThat(l.channelsAfter()).isEqualTo(4);
            assertThat(l.importance()).isEqualTo("activation");
        });
        assertThat(report.activationSamples()).isEqualTo(n);
        float[] actual = CompressTestModels.run(model, probe, INPUT);
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    @Test
    void aResidualWhoseSumAlsoFeedsAFlattenOrWhosePartnerIsAGraphInputIsLeftAloneWithTheReason() {
        OnnxModel flattened = model();
        var g = flattened.proto().getGraphBuilder();
        g.addNode(NodeProto.newBuilder().setOpType("Flatten").setName("flat").addInput("s").addOutput("f"));
        g.addOutput(tensor("f"));
        flattened.graph().sortTopologically();
        Map<String, StructuredPruner.Layer> layers = new HashMap<>();
        StructuredPruner.prune(flattened, new StructuredPruner.Options(0.5, Map.of(), Set.of(), false)).layers()
                .forEach(l -> layers.put(l.name(), l));
        for (String name : new String[] {"A", "B"}) {
            assertThat(layers.get(name).leftAlone()).contains("meets another branch at Add 'residual'")
                    .contains("'s' also feeds Flatten 'flat'");
            assertThat(layers.get(name).channelsAfter()).isEqualTo(8);
        }
        assertThat(Tensors.dims(flattened.graph().initializer("WB").orElseThrow())).containsExactly(8, 8, 1, 1);

        OnnxModel fromInput = model();
        var h = fromInput.proto().getGraphBuilder();
        h.addInput(tensor("x8"));
        for (var n : h.getNodeBuilderList()) {
            if (n.getName().equals("residual")) {
                n.setInput(1, "x8");
            }
        }
        fromInput.graph().sortTopologically();
        layers.clear();
        StructuredPruner.prune(fromInput, new StructuredPruner.Options(0.5, Map.of(), Set.of(), false)).layers()
                .forEach(l -> layers.put(l.name(), l));
        assertThat(layers.get("B").leftAlone()).contains("the partner 'x8' is a graph input");
        assertThat(layers.get("A").consumer()).isEqualTo("B"); // A no longer meets the Add: pruned on its own

        // a skipped partner keeps the whole group as it is
        layers.clear();
        StructuredPruner.prune(model(), new StructuredPruner.Options(0.5, Map.of(), Set.of("B"), false)).layers()
                .forEach(l -> layers.put(l.name(), l));
        assertThat(layers.get("A").leftAlone()).contains("partner 'B' is skipped");
    }

    @Test
    void aConcatWhoseOtherInputHasUnknownChannelsIsLeftAlone() {
        OnnxModel model = model();
        // D's input to the Concat now comes from a Sigmoid of the graph input: channels unknown here
        var g = model.proto().getGraphBuilder();
        for (var n : g.getNodeBuilderList()) {
            if (n.getName().equals("join")) {
                n.setInput(1, "xs");
            }
        }
        g.addNode(NodeProto.newBuilder().setOpType("Sigmoid").setName("sig").addInput("x").addOutput("xs"));
        model.graph().sortTopologically();
        StructuredPruner.Report report = StructuredPruner.prune(model, new StructuredPruner.Options(0.5, Map.of(),
                Set.of(), false));
        assertThat(report.layers()).filteredOn(l -> l.name().equals("C")).singleElement()
                .satisfies(l -> assertThat(l.leftAlone()).contains("does not reach exactly one"));
    }
}
