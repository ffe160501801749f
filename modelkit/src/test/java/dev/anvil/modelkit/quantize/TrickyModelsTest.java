package dev.anvil.modelkit.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.InvalidModelException;
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
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models where a naive quantiser breaks: sub-graphs, ops outside the standard domain, weights in Constant nodes. */
class TrickyModelsTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    @TempDir
    Path dir;

    @Test
    void ifSubGraphsStayFloatAndTheRestIsQuantised() throws Exception {
        GraphProto.Builder then = GraphProto.newBuilder().setName("then")
                .addNode(node("MatMul", "inner_matmul", new String[] {"y", "w2"}, "then_out"))
                .addOutput(floatValue("then_out", 2, 3));
        GraphProto.Builder otherwise = GraphProto.newBuilder().setName("else")
                .addNode(node("Neg", "inner_neg", new String[] {"y"}, "else_out"))
                .addOutput(floatValue("else_out", 2, 3));
        NodeProto.Builder branch = node("If", "branch", new String[] {"positive"}, "out").toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH).setG(then))
                .addAttribute(AttributeProto.newBuilder().setName("else_branch").setType(AttributeProto.AttributeType.GRAPH).setG(otherwise));
        GraphProto.Builder g = GraphProto.newBuilder().setName("if_model")
                .addInput(floatValue("x", 2, 4))
                .addInitializer(Tensors.floats("w", new long[] {4, 3}, random(12, 1)))
                .addInitializer(Tensors.floats("w2", new long[] {3, 3}, random(9, 2)))
                .addInitializer(Tensors.floats("zero", new long[0], new float[] {0f}))
                .addNode(node("MatMul", "outer_matmul", new String[] {"x", "w"}, "y"))
                .addNode(node("ReduceSum", "sum", new String[] {"x"}, "total").toBuilder()
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(0)))
                .addNode(node("Greater", "is_positive", new String[] {"total", "zero"}, "positive"))
                .addNode(branch)
                .addOutput(floatValue("out", 2, 3));
        OnnxModel model = OnnxModel.of(model(g, false));
        Path floatFile = dir.resolve("if.onnx");
        model.write(floatFile);

        // the then branch holds a MatMul with a weight: quantising it all would leave that float unnoticed
        assertThatThrownBy(() -> ModelQuantizer.plan(model, QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("node 'branch' (If) holds a sub-graph with 1 node to quantise (MatMul 'inner_matmul')")
                .hasMessageContaining("INT8 quantisation does not reach inside it")
                .hasMessageContaining("add 'branch' to exclude_nodes");
        QuantizeOptions options = SubgraphQuantizationTest.excluding(Set.of("branch"));
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        assertThat(plan.targets()).extracting(QuantizationPlan.Target::node).containsExactly("outer_matmul");
        assertThat(plan.leftFloat()).extracting(QuantizationPlan.LeftFloat::reason)
                .containsExactly("holds sub-graphs; their 2 nodes stay float");
        Path quantized = quantizeAndWrite(model, plan, options, dataset("x", new long[] {64, 4}));
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(quantized, floatFile,
                dataset("x", new long[] {64, 4}), ModelComparator.Pooling.NONE, 2, 0, (d, t) -> {});
        // a 4-wide random model has little redundancy: 8-bit noise shows more than on real models
        assertThat(c.meanCosine()).isGreaterThan(0.97);
    }

    @Test
    void opsOutsideTheStandardDomainAreLeftAsTheyAre() throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("gelu_model")
                .addInput(floatValue("x", 2, 4))
                .addInitializer(Tensors.floats("w1", new long[] {4, 8}, random(32, 3)))
                .addInitializer(Tensors.floats("w2", new long[] {8, 3}, random(24, 4)))
                .addNode(node("MatMul", "up", new String[] {"x", "w1"}, "h"))
                .addNode(node("Gelu", "act", new String[] {"h"}, "g").toBuilder().setDomain("com.microsoft"))
                .addNode(node("MatMul", "down", new String[] {"g", "w2"}, "out"))
                .addOutput(floatValue("out", 2, 3));
        OnnxModel model = OnnxModel.of(model(g, true));
        Path floatFile = dir.resolve("gelu.onnx");
        model.write(floatFile);
        QuantizeOptions options = QuantizeOptions.staticDefaults(CalibrationMethod.PERCENTILE);
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        assertThat(plan.targets()).extracting(QuantizationPlan.Target::node).containsExactly("up", "down");
        assertThat(plan.leftFloat()).singleElement().satisfies(l -> {
            assertThat(l.node()).isEqualTo("act");
            assertThat(l.reason()).contains("custom domain 'com.microsoft'");
        });
        Path quantized = quantizeAndWrite(model, plan, options, dataset("x", new long[] {64, 4}));
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(quantized, floatFile,
                dataset("x", new long[] {64, 4}), ModelComparator.Pooling.NONE, 2, 0, (d, t) -> {});
        assertThat(c.meanCosine()).isGreaterThan(0.99);
    }

    @Test
    void weightsInConstantNodesAreFoundAndQuantised() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        model.setOpset("", 13);
        model.proto().setIrVersion(7);
        var graph = model.graph();
        for (NodeProto conv : graph.nodes().stream().filter(n -> n.getOpType().equals("Conv")).toList()) {
            TensorProto w = graph.initializer(conv.getInput(1)).orElseThrow();
            graph.proto().removeInitializer(graph.proto().getInitializerList().indexOf(w));
            graph.proto().addNode(0, NodeProto.newBuilder().setOpType("Constant").addOutput(w.getName())
                    .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                            .setT(w.toBuilder().clearName())));
        }
        QuantizationPlan plan = ModelQuantizer.plan(model, QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX));
        assertThat(plan.targetsByOpType()).containsEntry("Conv", 2).containsEntry("Gemm", 2);
        assertThat(plan.leftFloat()).isEmpty();
    }

    private Path quantizeAndWrite(OnnxModel model, QuantizationPlan plan, QuantizeOptions options, Path data)
            throws Exception {
        Calibrator.Result r;
        try (DatasetReader reader = DatasetReader.open(data)) {
            r = new Calibrator(ENV).calibrate(model, "sha", plan.activationTensors(), reader, options, Optional.empty(),
                    (d, t, s) -> {});
        }
        ModelQuantizer.applyStatic(model, plan, r.table(), options);
        Path out = dir.resolve("quantized-" + System.nanoTime() + ".onnx");
        model.write(out);
        return out;
    }

    private Path dataset(String input, long[] shape) throws Exception {
        int n = (int) (shape[0] * shape[1]);
        Path file = dir.resolve("data-" + System.nanoTime() + ".zip");
        DatasetWriter.write(file, new Dataset(Map.of(input, NpyArray.ofFloat32(shape, random(n, 5))), Optional.empty()));
        return file;
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static NodeProto node(String op, String name, String[] inputs, String output) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
        for (String i : inputs) {
            b.addInput(i);
        }
        return b.build();
    }

    private static ValueInfoProto floatValue(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (int i = 0; i < dims.length; i++) {
            shape.addDim(i == 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(dims[i]));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    private static ModelProto model(GraphProto.Builder graph, boolean microsoft) {
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(8).setProducerName("anvil-test").setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13));
        if (microsoft) {
            m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1));
        }
        return m.build();
    }
}
