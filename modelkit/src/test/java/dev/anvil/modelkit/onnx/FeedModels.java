package dev.anvil.modelkit.onnx;

import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetManifest;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Models with the signatures real stateful and mixed-type models have, built here (opset 13). */
public final class FeedModels {
    private FeedModels() {}

    /**
     * A recurrent toy: {@code hn = tanh(h0 + x·W)} with W all ones, {@code out = sr · sum(hn over axes 0 and 2)}.
     * Inputs {@code x: float[B,3]}, {@code sr: int64[]} (a scalar sample rate), {@code h0: float[2,B,4]} (state,
     * batched on axis 1); outputs {@code out: float[B]} and {@code hn: float[2,B,4]}.
     */
    public static Path stateful(Path dir) throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("stateful")
                .addInput(value("x", DataType.FLOAT, -1, 3))
                .addInput(value("sr", DataType.INT64))
                .addInput(value("h0", DataType.FLOAT, 2, -1, 4))
                .addInitializer(Tensors.floats("W", new long[] {3, 4}, ones(12)))
                .addInitializer(Tensors.int64s("axes", new long[] {2}, new long[] {0, 2}))
                .addNode(node("MatMul", List.of("x", "W"), "xw"))
                .addNode(node("Add", List.of("h0", "xw"), "s"))
                .addNode(node("Tanh", List.of("s"), "hn"))
                .addNode(node("ReduceSum", List.of("hn", "axes"), "red", intAttr("keepdims", 0)))
                .addNode(node("Cast", List.of("sr"), "srf", intAttr("to", DataType.FLOAT_VALUE)))
                .addNode(node("Mul", List.of("red", "srf"), "out"))
                .addOutput(value("out", DataType.FLOAT, -1))
                .addOutput(value("hn", DataType.FLOAT, 2, -1, 4));
        return write(dir, "stateful.onnx", g);
    }

    /**
     * Steps for {@link #stateful}: x = [1, 0, 0], h0 stored sample-first [n, 2, 4] with {@code h0[i]} everywhere
     * (batch axis 1, fed back from hn; only the first step's is used), sr = 2 stored once. From h0 = 0 every
     * state element follows h(t) = tanh(h(t-1) + 1) and out = 16 h(t): 12.1855, 15.0829, 15.3559, ...
     */
    public static Dataset recurrentSteps(float... h0) {
        int n = h0.length;
        float[] x = new float[n * 3];
        float[] h = new float[n * 8];
        for (int i = 0; i < n; i++) {
            x[i * 3] = 1;
            java.util.Arrays.fill(h, i * 8, (i + 1) * 8, h0[i]);
        }
        Map<String, NpyArray> inputs = new LinkedHashMap<>();
        inputs.put("x", NpyArray.ofFloat32(new long[] {n, 3}, x));
        inputs.put("sr", NpyArray.ofInt64(new long[0], new long[] {2}));
        inputs.put("h0", NpyArray.ofFloat32(new long[] {n, 2, 4}, h));
        return new Dataset(inputs, Optional.empty(), DatasetManifest.NONE.withBatchAxis("h0", 1)
                .withBatchAxis("sr", null).withState("h0", "hn", DatasetManifest.Initial.DATASET));
    }

    /**
     * {@code out = float(n) · float(flag) + float(half)}: inputs {@code flag: bool[B,1]}, {@code n: int32[B,1]},
     * {@code half: float16[B,1]}; output {@code out: float[B,1]}.
     */
    public static Path mixedTypes(Path dir) throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("mixed")
                .addInput(value("flag", DataType.BOOL, -1, 1))
                .addInput(value("n", DataType.INT32, -1, 1))
                .addInput(value("half", DataType.FLOAT16, -1, 1))
                .addNode(node("Cast", List.of("flag"), "flagf", intAttr("to", DataType.FLOAT_VALUE)))
                .addNode(node("Cast", List.of("n"), "nf", intAttr("to", DataType.FLOAT_VALUE)))
                .addNode(node("Cast", List.of("half"), "halff", intAttr("to", DataType.FLOAT_VALUE)))
                .addNode(node("Mul", List.of("nf", "flagf"), "prod"))
                .addNode(node("Add", List.of("prod", "halff"), "out"))
                .addOutput(value("out", DataType.FLOAT, -1, 1));
        return write(dir, "mixed.onnx", g);
    }

    private static Path write(Path dir, String name, GraphProto.Builder graph) throws Exception {
        ModelProto model = ModelProto.newBuilder().setIrVersion(7).setProducerName("feed-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(graph).build();
        Path file = dir.resolve(name);
        Files.write(file, model.toByteArray());
        return file;
    }

    private static float[] ones(int n) {
        float[] values = new float[n];
        java.util.Arrays.fill(values, 1f);
        return values;
    }

    private static NodeProto node(String op, List<String> inputs, String output, AttributeProto... attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + output).addAllInput(inputs)
                .addOutput(output);
        for (AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        return n.build();
    }

    private static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    /** A tensor value; a negative dim is symbolic (the batch), no dims a scalar. */
    private static ValueInfoProto value(String name, DataType type, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("B")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }
}
