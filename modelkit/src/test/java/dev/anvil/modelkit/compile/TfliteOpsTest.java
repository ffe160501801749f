package dev.anvil.modelkit.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small models built here, one family of ops each, compared in the TFLite interpreter against ONNX Runtime. */
class TfliteOpsTest {
    @TempDir
    Path dir;
    final Random random = new Random(7);

    @Test
    void mobileBlockDepthwiseFoldedBatchNormRelu6GlobalPoolGemm() throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("mobile");
        g.addInput(value("x", 1, 3, 10, 10));
        g.addInitializer(weights("w1", 8, 3, 3, 3));
        g.addInitializer(weights("b1", 8));
        g.addNode(node("Conv", List.of("x", "w1", "b1"), "c1", ints("pads", 1, 1, 1, 1), ints("strides", 2, 2)));
        g.addInitializer(positive("bn_s", 8)).addInitializer(weights("bn_b", 8)).addInitializer(weights("bn_m", 8))
                .addInitializer(positive("bn_v", 8));
        g.addNode(node("BatchNormalization", List.of("c1", "bn_s", "bn_b", "bn_m", "bn_v"), "bn1"));
        g.addNode(node("Clip", List.of("bn1", "lo", "hi"), "r1"));
        g.addInitializer(Tensors.floats("lo", new long[0], new float[] {0}));
        g.addInitializer(Tensors.floats("hi", new long[0], new float[] {6}));
        g.addInitializer(weights("dw", 16, 1, 3, 3));
        g.addNode(node("Conv", List.of("r1", "dw"), "c2", ints("pads", 1, 1, 1, 1), i("group", 8)));
        g.addNode(node("HardSwish", List.of("c2"), "h2"));
        g.addNode(node("GlobalAveragePool", List.of("h2"), "gap"));
        g.addNode(node("Flatten", List.of("gap"), "flat"));
        g.addInitializer(weights("fc", 5, 16));
        g.addInitializer(weights("fcb", 5));
        g.addNode(node("Gemm", List.of("flat", "fc", "fcb"), "y", i("transB", 1), f("alpha", 0.5f)));
        g.addOutput(value("y", 1, 5));
        TfliteConverter.Result r = check(g, 14, new int[] {1, 3, 10, 10}); // HardSwish is opset 14
        assertThat(r.tfliteOps()).containsKeys("CONV_2D", "DEPTHWISE_CONV_2D", "RELU6", "MEAN", "HARD_SWISH")
                .doesNotContainKey("MUL");
        assertThat(r.notes()).anyMatch(n -> n.contains("folded"));
    }

    @Test
    void explicitPadsAveragePoolSigmoidBroadcastConcatAndA4dOutput() throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("mix");
        g.addInput(value("x", 1, 2, 9, 9));
        g.addInitializer(weights("w", 4, 2, 3, 3));
        g.addNode(node("Conv", List.of("x", "w"), "c", ints("pads", 2, 0, 1, 2)));
        g.addNode(node("Sigmoid", List.of("c"), "s"));
        g.addInitializer(weights("k", 4, 1, 1));
        g.addNode(node("Add", List.of("s", "k"), "a"));
        g.addNode(node("Mul", List.of("a", "s"), "m"));
        g.addNode(node("Concat", List.of("m", "a"), "cat", i("axis", 1)));
        g.addNode(node("AveragePool", List.of("cat"), "p", ints("kernel_shape", 2, 2), ints("strides", 2, 2)));
        g.addNode(node("LeakyRelu", List.of("p"), "y", f("alpha", 0.2f)));
        g.addOutput(value("y", 1, 8, 5, 4));
        TfliteConverter.Result r = check(g, 13, new int[] {1, 2, 9, 9});
        assertThat(r.tfliteOps()).containsKeys("PAD", "AVERAGE_POOL_2D", "CONCATENATION").containsEntry("TRANSPOSE", 2);
    }

    @Test
    void matMulMlpWithElementwiseOps() throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("mlp");
        g.addInput(value("x", -1, 6));
        g.addInitializer(weights("w", 6, 7));
        g.addNode(node("MatMul", List.of("x", "w"), "h"));
        g.addInitializer(weights("b", 7));
        g.addNode(node("Sub", List.of("h", "b"), "h2"));
        g.addNode(node("Tanh", List.of("h2"), "t"));
        g.addInitializer(positive("d", 7));
        g.addNode(node("Div", List.of("t", "d"), "q"));
        g.addNode(node("Unsqueeze", List.of("q", "ax"), "u"));
        g.addInitializer(Tensors.int64s("ax", new long[] {1}, new long[] {1}));
        g.addNode(node("Squeeze", List.of("u", "ax"), "sq"));
        g.addNode(node("Softmax", List.of("sq"), "y"));
        g.addOutput(value("y", -1, 7));
        TfliteConverter.Result r = check(g, 13, new int[] {1, 6});
        assertThat(r.dynamicBatch()).isTrue();
    }

    @Test
    void unsupportedOpsAreRefusedBeforeAnyWorkWithTheirNodeNames() {
        GraphProto.Builder g = GraphProto.newBuilder().setName("bad");
        g.addInput(value("x", 1, 4));
        g.addNode(node("Relu", List.of("x"), "r"));
        g.addNode(node("Erf", List.of("r"), "e"));
        g.addNode(node("TopK", List.of("e", "k"), "y"));
        g.addOutput(value("y", 1, 4));
        OnnxModel model = OnnxModel.of(model(g, 13));
        assertThatThrownBy(() -> TfliteConverter.convert(model, TfliteConverter.Precision.FLOAT32))
                .isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("Erf 'Erf_e'").hasMessageContaining("TopK 'TopK_y'")
                .satisfies(e -> assertThat(((UnsupportedModelException) e).nodes()).hasSize(2));
    }

    @Test
    void controlFlowIsRefused() {
        GraphProto.Builder branch = GraphProto.newBuilder().setName("b").addOutput(value("o", 1));
        GraphProto.Builder g = GraphProto.newBuilder().setName("cf");
        g.addInput(value("x", 1, 4));
        g.addInitializer(TensorProto.newBuilder().setName("cond").setDataType(TensorProto.DataType.BOOL_VALUE)
                .addInt32Data(1));
        g.addNode(node("If", List.of("cond"), "y", AttributeProto.newBuilder().setName("then_branch")
                .setType(AttributeType.GRAPH).setG(branch).build(), AttributeProto.newBuilder()
                .setName("else_branch").setType(AttributeType.GRAPH).setG(branch).build()));
        g.addOutput(value("y", 1));
        OnnxModel model = OnnxModel.of(model(g, 13));
        assertThatThrownBy(() -> TfliteConverter.convert(model, TfliteConverter.Precision.FLOAT32))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("If 'If_y' (control flow)");
    }

    @Test
    void aCorruptModelIsRefused() {
        assertThatThrownBy(() -> OnnxModel.parse(new byte[] {8, 7, 0x12, 0x7f, 1, 2, 3}))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("not an ONNX model");
    }

    @Test
    void aCorruptTfliteIsRefusedByTheInterpreter() throws Exception {
        Path bad = dir.resolve("bad.tflite");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertThatThrownBy(() -> new TfliteRunner(bad, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void int8ConcatOfDifferentScalesAddSigmoidMaxPoolSoftmaxFollowTflitesRules() throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("int8mix");
        g.addInput(value("x", 1, 2, 8, 8));
        g.addInitializer(weights("w1", 4, 2, 3, 3));
        g.addInitializer(weights("b1", 4));
        g.addNode(node("Conv", List.of("x", "w1", "b1"), "c1", ints("pads", 1, 1, 1, 1)));
        g.addNode(node("Relu", List.of("c1"), "r1"));
        g.addInitializer(weights("w2", 4, 2, 3, 3));
        g.addNode(node("Conv", List.of("x", "w2"), "c2", ints("pads", 1, 1, 1, 1)));
        g.addNode(node("Concat", List.of("r1", "c2"), "cat", i("axis", 1)));
        g.addNode(node("MaxPool", List.of("cat"), "p", ints("kernel_shape", 2, 2), ints("strides", 2, 2)));
        g.addNode(node("Sigmoid", List.of("p"), "sg"));
        g.addNode(node("Add", List.of("p", "sg"), "a"));
        g.addNode(node("GlobalAveragePool", List.of("a"), "gap"));
        g.addNode(node("Flatten", List.of("gap"), "flat"));
        g.addInitializer(weights("fc", 5, 8));
        g.addInitializer(weights("fcb", 5));
        g.addNode(node("Gemm", List.of("flat", "fc", "fcb"), "logits", i("transB", 1)));
        g.addNode(node("Softmax", List.of("logits"), "y", i("axis", 1)));
        g.addOutput(value("y", 1, 5));
        Path onnx = dir.resolve("int8mix.onnx");
        OnnxModel model = OnnxModel.of(model(g, 13));
        model.write(onnx);
        List<float[]> samples = gaussian(200, 2 * 8 * 8);
        // ranges of every tensor, measured by the quantize operator's calibrator (min/max)
        Path data = dir.resolve("int8mix.zip");
        float[] all = new float[200 * 128];
        for (int s = 0; s < 200; s++) {
            System.arraycopy(samples.get(s), 0, all, s * 128, 128);
        }
        dev.anvil.modelkit.datasets.DatasetWriter.write(data, new dev.anvil.modelkit.datasets.Dataset(
                java.util.Map.of("x", dev.anvil.modelkit.datasets.NpyArray.ofFloat32(new long[] {200, 2, 8, 8}, all)),
                java.util.Optional.empty()));
        java.util.Set<String> names = new java.util.LinkedHashSet<>(List.of("x"));
        model.graph().nodes().forEach(n -> names.add(n.getOutput(0)));
        var options = dev.anvil.modelkit.quantize.QuantizeOptions.staticDefaults(
                dev.anvil.modelkit.quantize.CalibrationMethod.MINMAX);
        dev.anvil.modelkit.quantize.CalibrationTable table;
        try (var reader = dev.anvil.modelkit.datasets.DatasetReader.open(data)) {
            table = new dev.anvil.modelkit.quantize.Calibrator(ai.onnxruntime.OrtEnvironment.getEnvironment())
                    .calibrate(OnnxModel.read(onnx), "int8mix", names, reader, options, java.util.Optional.empty(),
                            (d, t, st) -> {}).table();
        }
        TfliteConverter.Result r = TfliteConverter.convertInt8(OnnxModel.read(onnx), table);
        Path tfl = dir.resolve("int8mix.tflite");
        Files.write(tfl, r.flatbuffer());
        TfliteVerifier.Report rep = TfliteVerifier.compare(onnx, tfl, samples, new int[] {1, 2, 8, 8}, null);
        System.out.printf("int8mix: ops %s notes %s agreement %.3f max abs error %.3g%n", r.tfliteOps(), r.notes(),
                rep.top1Agreement(), rep.maxAbsError());
        assertThat(rep.maxAbsError()).isLessThan(0.05);
        assertThat(rep.top1Agreement()).isGreaterThan(0.9);

        var m = org.tensorflow.lite.schema.Model.getRootAsModel(java.nio.ByteBuffer.wrap(r.flatbuffer())).unpack();
        var sg = m.getSubgraphs()[0];
        int concats = 0;
        for (var op : sg.getOperators()) {
            int code = m.getOperatorCodes()[(int) op.getOpcodeIndex()].getBuiltinCode();
            var out = sg.getTensors()[op.getOutputs()[0]];
            var in = sg.getTensors()[op.getInputs()[0]];
            if (code == org.tensorflow.lite.schema.BuiltinOperator.CONCATENATION) {
                concats++;
                for (int t : op.getInputs()) {
                    assertThat(sameParams(sg.getTensors()[t], out)).as("concat input %s", sg.getTensors()[t].getName())
                            .isTrue();
                }
            }
            if (code == org.tensorflow.lite.schema.BuiltinOperator.MAX_POOL_2D) {
                assertThat(sameParams(in, out)).as("max pool keeps its input's parameters").isTrue();
            }
            if (code == org.tensorflow.lite.schema.BuiltinOperator.SOFTMAX
                    || code == org.tensorflow.lite.schema.BuiltinOperator.LOGISTIC) {
                assertThat(out.getQuantization().getScale()).containsExactly(1f / 256);
                assertThat(out.getQuantization().getZeroPoint()).containsExactly(-128L);
            }
        }
        assertThat(concats).isEqualTo(1);
        // the two branches have different ranges: at least one is requantised to the concatenation's
        // one QUANTIZE at the input, and one per input requantised to the concatenation's parameters
        assertThat(r.tfliteOps().get("QUANTIZE")).isGreaterThanOrEqualTo(2);
        assertThat(r.tfliteOps()).containsKeys("ADD", "LOGISTIC", "SOFTMAX", "MEAN");
    }

    @Test
    void int8RefusesOpsWithoutAnInt8KernelBeforeLookingAtTheTable() {
        GraphProto.Builder g = GraphProto.newBuilder().setName("div");
        g.addInput(value("x", 1, 4));
        g.addNode(node("Relu", List.of("x"), "r"));
        g.addNode(node("Div", List.of("x", "r"), "y"));
        g.addOutput(value("y", 1, 4));
        OnnxModel model = OnnxModel.of(model(g, 13));
        // an empty table: were the table read first, the refusal would name missing ranges instead
        var empty = new dev.anvil.modelkit.quantize.CalibrationTable(
                dev.anvil.modelkit.quantize.CalibrationTable.FORMAT, "x", "minmax", null, 0, java.util.Map.of());
        assertThatThrownBy(() -> TfliteConverter.convertInt8(model, empty))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("Div 'Div_y' (no int8 kernel");
        // float32 takes it
        assertThat(TfliteConverter.unsupportedNodes(model, TfliteConverter.Precision.FLOAT32)).isEmpty();
    }

    private static boolean sameParams(org.tensorflow.lite.schema.TensorT a, org.tensorflow.lite.schema.TensorT b) {
        return java.util.Arrays.equals(a.getQuantization().getScale(), b.getQuantization().getScale())
                && java.util.Arrays.equals(a.getQuantization().getZeroPoint(), b.getQuantization().getZeroPoint());
    }

    private List<float[]> gaussian(int count, int n) {
        List<float[]> samples = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) random.nextGaussian();
            }
            samples.add(x);
        }
        return samples;
    }

    // ---- helpers (the static ONNX builders are shared with the other compile tests)

    private TfliteConverter.Result check(GraphProto.Builder g, int opset, int[] inputShape) throws Exception {
        Path onnx = dir.resolve(g.getName() + ".onnx");
        OnnxModel model = OnnxModel.of(model(g, opset));
        model.write(onnx);
        TfliteConverter.Result r = TfliteConverter.convert(model, TfliteConverter.Precision.FLOAT32);
        Path tfl = dir.resolve(g.getName() + ".tflite");
        Files.write(tfl, r.flatbuffer());
        int n = 1;
        for (int d : inputShape) {
            n *= d;
        }
        List<float[]> samples = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) random.nextGaussian();
            }
            samples.add(x);
        }
        TfliteVerifier.Report rep = TfliteVerifier.compare(onnx, tfl, samples, inputShape, null);
        System.out.printf("%s: ops %s notes %s max abs error %.3g%n", g.getName(), r.tfliteOps(), r.notes(),
                rep.maxAbsError());
        assertThat(rep.maxAbsError()).as(g.getName()).isLessThan(1e-4);
        return r;
    }

    static ModelProto model(GraphProto.Builder g, int opset) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(g).build();
    }

    static NodeProto node(String op, List<String> in, String out, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + out).addAllInput(in)
                .addOutput(out);
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        return n.build();
    }

    static ValueInfoProto value(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    private TensorProto weights(String name, long... dims) {
        float[] v = new float[(int) Tensors.elementCount(dims)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian() * 0.5f;
        }
        return Tensors.floats(name, dims, v);
    }

    private TensorProto positive(String name, long... dims) {
        float[] v = new float[(int) Tensors.elementCount(dims)];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.5f + random.nextFloat();
        }
        return Tensors.floats(name, dims, v);
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(v).build();
    }

    static AttributeProto f(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(v).build();
    }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }
}
