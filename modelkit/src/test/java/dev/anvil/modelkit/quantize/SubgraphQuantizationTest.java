package dev.anvil.modelkit.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.Set;
import org.junit.jupiter.api.Test;

/** INT8 does not reach inside If/Loop/Scan sub-graphs: weights there are refused by node, unless the node is excluded. */
class SubgraphQuantizationTest {

    /** Static defaults leaving {@code nodes} in float. */
    static QuantizeOptions excluding(Set<String> nodes) {
        QuantizeOptions d = QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX);
        return new QuantizeOptions(d.mode(), d.activationType(), d.weightType(), d.perChannel(), d.symmetricActivations(),
                d.method(), d.percentile(), d.calibrationSamples(), d.batchSize(), d.opTypes(), d.excludeOpTypes(), nodes,
                d.smoothAlpha());
    }

    @Test
    void aLoopWhoseBodyHoldsTheWeightsIsRefusedNamingTheNode() {
        OnnxModel model = OnnxModel.of(loop(true));
        assertThatThrownBy(() -> ModelQuantizer.plan(model, QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("node 'loop_1' (Loop) holds a sub-graph with 1 node to quantise (MatMul 'body_matmul')")
                .hasMessageContaining("INT8 quantisation does not reach inside it, so they would stay float")
                .hasMessageContaining("add 'loop_1' to exclude_nodes");
        assertThatThrownBy(() -> ModelQuantizer.plan(OnnxModel.of(loop(true)), QuantizeOptions.dynamicDefaults()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("node 'loop_1' (Loop)");
    }

    @Test
    void anExcludedLoopStaysFloatAndIsReported() {
        QuantizationPlan plan = ModelQuantizer.plan(OnnxModel.of(loop(true)), excluding(Set.of("loop_1")));
        assertThat(plan.targets()).isEmpty();
        assertThat(plan.leftFloat()).extracting(QuantizationPlan.LeftFloat::node).containsExactly("loop_1");
    }

    @Test
    void aSubGraphWithNothingToQuantiseIsNoReasonToRefuse() {
        // the body multiplies two run-time values: no weight, nothing the quantiser would have rewritten
        QuantizationPlan plan = ModelQuantizer.plan(OnnxModel.of(loop(false)),
                QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX));
        assertThat(plan.leftFloat()).extracting(QuantizationPlan.LeftFloat::node).containsExactly("loop_1");
    }

    /** y = x · W three times in a Loop; {@code weighted}: W is a weight, else x · x. */
    private static ModelProto loop(boolean weighted) {
        GraphProto body = GraphProto.newBuilder().setName("body")
                .addInput(value("i", TensorProto.DataType.INT64_VALUE))
                .addInput(value("cond_in", TensorProto.DataType.BOOL_VALUE))
                .addInput(value("x_in", TensorProto.DataType.FLOAT_VALUE, 1, 4))
                .addNode(node("Identity", "body_cond", "cond_out", "cond_in"))
                .addNode(node("MatMul", "body_matmul", "x_out", "x_in", weighted ? "w" : "x_in"))
                .addOutput(value("cond_out", TensorProto.DataType.BOOL_VALUE))
                .addOutput(value("x_out", TensorProto.DataType.FLOAT_VALUE, 1, 4))
                .build();
        float[] w = new float[16];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 5 - 2) * 0.25f;
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("loop_model")
                .addInput(value("x", TensorProto.DataType.FLOAT_VALUE, 1, 4))
                .addInitializer(Tensors.floats("w", new long[] {4, 4}, w))
                .addInitializer(TensorProto.newBuilder().setName("trips").setDataType(TensorProto.DataType.INT64_VALUE)
                        .addInt64Data(3))
                .addInitializer(TensorProto.newBuilder().setName("go").setDataType(TensorProto.DataType.BOOL_VALUE)
                        .addInt32Data(1))
                .addNode(node("Loop", "loop_1", "y", "trips", "go", "x").toBuilder()
                        .addAttribute(AttributeProto.newBuilder().setName("body").setType(AttributeProto.AttributeType.GRAPH)
                                .setG(body)))
                .addOutput(value("y", TensorProto.DataType.FLOAT_VALUE, 1, 4));
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("anvil-test").setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
    }

    private static NodeProto node(String op, String name, String output, String... inputs) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
        for (String i : inputs) {
            b.addInput(i);
        }
        return b.build();
    }

    private static ValueInfoProto value(String name, int type, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }
}
