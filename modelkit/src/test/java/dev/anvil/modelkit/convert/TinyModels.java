package dev.anvil.modelkit.convert;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builds small ONNX models with the generated protobuf builders, and runs models in ONNX Runtime. */
final class TinyModels {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private TinyModels() {}

    /** A graph under construction: nodes, initializers, inputs and outputs, then {@link #model}. */
    static final class Graph {
        final GraphProto.Builder g = GraphProto.newBuilder().setName("tiny");

        Graph input(String name, int type, long... dims) {
            g.addInput(value(name, type, dims));
            return this;
        }

        Graph output(String name, int type, long... dims) {
            g.addOutput(value(name, type, dims));
            return this;
        }

        Graph init(TensorProto t) {
            g.addInitializer(t);
            return this;
        }

        Graph node(String op, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
            g.addNode(TinyModels.node(op, inputs, outputs, attributes));
            return this;
        }

        GraphProto graph() {
            return g.build();
        }

        ModelProto model(int opset) {
            return model(opset, irFor(opset));
        }

        ModelProto model(int opset, int irVersion) {
            if (irVersion < 4) { // IR 3 lists every initializer among the graph inputs
                for (TensorProto t : g.getInitializerList()) {
                    g.addInput(value(t.getName(), t.getDataType(), Tensors.dims(t)));
                }
            }
            return ModelProto.newBuilder().setIrVersion(irVersion).setProducerName("tiny-test")
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                    .setGraph(g).build();
        }
    }

    static int irFor(int opset) {
        return opset <= 8 ? 3 : opset == 9 ? 4 : opset == 10 ? 5 : opset == 11 ? 6 : opset <= 14 ? 7
                : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
    }

    static NodeProto node(String op, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + outputs.get(0))
                .addAllInput(inputs).addAllOutput(outputs);
        for (AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        return n.build();
    }

    /** A tensor value; a negative dim becomes a symbolic one. */
    static ValueInfoProto value(String name, int type, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (int i = 0; i < dims.length; i++) {
            shape.addDim(dims[i] < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("d" + i)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(dims[i]));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }

    static ValueInfoProto untyped(String name) {
        return ValueInfoProto.newBuilder().setName(name).build();
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(v).build();
    }

    static AttributeProto f(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(v).build();
    }

    static AttributeProto s(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING).setS(ByteString.copyFromUtf8(v)).build();
    }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        Arrays.stream(v).forEach(a::addInts);
        return a.build();
    }

    static AttributeProto floats(String name, float... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOATS);
        for (float x : v) {
            a.addFloats(x);
        }
        return a.build();
    }

    static AttributeProto graph(String name, GraphProto g) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.GRAPH).setG(g).build();
    }

    static AttributeProto tensor(String name, TensorProto t) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.TENSOR).setT(t).build();
    }

    static Path write(Path dir, String name, ModelProto model) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, model.toByteArray());
        return file;
    }

    /** Inputs for a model: float tensors uniform in [-2, 2), int64 tensors in [0, bound), bool tensors given. */
    static final class Inputs implements AutoCloseable {
        final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        private final Random random;

        Inputs(long seed) {
            random = new Random(seed);
        }

        Inputs floats(String name, long... shape) throws OrtException {
            int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            float[] v = new float[n];
            for (int k = 0; k < n; k++) {
                v[k] = random.nextFloat() * 4 - 2;
            }
            return put(name, OnnxTensor.createTensor(ENV, FloatBuffer.wrap(v), shape));
        }

        Inputs floats(String name, float[] values, long... shape) throws OrtException {
            return put(name, OnnxTensor.createTensor(ENV, FloatBuffer.wrap(values), shape));
        }

        Inputs longs(String name, long bound, long... shape) throws OrtException {
            int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            long[] v = new long[n];
            for (int k = 0; k < n; k++) {
                v[k] = (long) (random.nextDouble() * bound);
            }
            return put(name, OnnxTensor.createTensor(ENV, LongBuffer.wrap(v), shape));
        }

        Inputs bool(String name, boolean value) throws OrtException {
            ByteBuffer b = ByteBuffer.allocateDirect(1).order(ByteOrder.nativeOrder()).put((byte) (value ? 1 : 0));
            return put(name, OnnxTensor.createTensor(ENV, b.flip(), new long[0], OnnxJavaType.BOOL));
        }

        private Inputs put(String name, OnnxTensor t) {
            tensors.put(name, t);
            return this;
        }

        @Override
        public void close() {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /** Every output of the model on the inputs, flattened to doubles. */
    static Map<String, double[]> run(Path model, Inputs inputs) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = ENV.createSession(model.toString(), options);
                    OrtSession.Result result = session.run(inputs.tensors)) {
                Map<String, double[]> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    OnnxTensor t = (OnnxTensor) e.getValue();
                    int n = (int) t.getInfo().getNumElements();
                    double[] d = new double[n];
                    switch (t.getInfo().type) {
                        case FLOAT -> {
                            FloatBuffer b = t.getFloatBuffer();
                            for (int k = 0; k < n; k++) {
                                d[k] = b.get(k);
                            }
                        }
                        case INT64 -> {
                            LongBuffer b = t.getLongBuffer();
                            for (int k = 0; k < n; k++) {
                                d[k] = b.get(k);
                            }
                        }
                        case BOOL -> {
                            ByteBuffer b = t.getByteBuffer();
                            for (int k = 0; k < n; k++) {
                                d[k] = b.get(k);
                            }
                        }
                        default -> throw new AssertionError("unexpected output type " + t.getInfo().type);
                    }
                    out.put(e.getKey(), d);
                }
                return out;
            }
        }
    }

    /** Asserts both models give the same outputs (to {@code tolerance}) on the inputs. */
    static void assertSameOutputs(Path original, Path converted, Inputs inputs, double tolerance) throws OrtException {
        Map<String, double[]> expected = run(original, inputs);
        Map<String, double[]> actual = run(converted, inputs);
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        for (String name : expected.keySet()) {
            double[] a = expected.get(name);
            double[] b = actual.get(name);
            assertThat(b).as("output %s", name).hasSameSizeAs(a);
            for (int k = 0; k < a.length; k++) {
                assertThat(b[k]).as("output %s[%d]", name, k).isCloseTo(a[k], org.assertj.core.data.Offset.offset(tolerance));
            }
        }
    }

    static TensorProto floatTensor(String name, long[] dims, float... values) {
        return dev.anvil.modelkit.onnx.Tensors.floats(name, dims, values);
    }

    static TensorProto longTensor(String name, long[] dims, long... values) {
        return dev.anvil.modelkit.onnx.Tensors.int64s(name, dims, values);
    }

    static float[] range(int n, float scale) {
        float[] v = new float[n];
        for (int k = 0; k < n; k++) {
            v[k] = (float) Math.sin(k * 0.7 + 0.3) * scale;
        }
        return v;
    }

    static List<String> list(String... names) {
        return new ArrayList<>(Arrays.asList(names));
    }

    static final int FLOAT = DataType.FLOAT_VALUE;
    static final int INT64 = DataType.INT64_VALUE;
    static final int BOOL = DataType.BOOL_VALUE;
}
