package dev.anvil.modelkit.onnx;

import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;

/**
 * Small models whose signatures test what callers of a model see: inputs and outputs in an order that is
 * not alphabetical, and an input whose values the graph bounds. Free dimensions are symbolic ("N").
 */
public final class SignatureModels {
    /** The number of rows in {@link #lookup()}'s table. */
    public static final int VOCABULARY = 3;

    private SignatureModels() {
    }

    /**
     * Inputs {@code zeta}, {@code alpha} (FP32 [N]); outputs {@code total} = zeta + alpha and
     * {@code difference} = zeta - alpha: graph order, not name order.
     */
    public static byte[] unsortedNames() {
        GraphProto graph = GraphProto.newBuilder().setName("unsorted")
                .addInput(value("zeta", DataType.FLOAT_VALUE))
                .addInput(value("alpha", DataType.FLOAT_VALUE))
                .addNode(node("Add", "zeta", "alpha", "total"))
                .addNode(node("Sub", "zeta", "alpha", "difference"))
                .addOutput(value("total", DataType.FLOAT_VALUE))
                .addOutput(value("difference", DataType.FLOAT_VALUE))
                .build();
        return model(graph);
    }

    /**
     * An embedding of a vocabulary of {@value #VOCABULARY} tokens: input {@code token_ids} (INT64 [N]),
     * output {@code embedding} (FP32 [N]) = the table's value at each id. An id outside [-3, 2] is a value
     * the model cannot take, though the signature allows it.
     */
    public static byte[] lookup() {
        TensorProto table = TensorProto.newBuilder().setName("table").setDataType(DataType.FLOAT_VALUE)
                .addDims(VOCABULARY).addFloatData(0.5f).addFloatData(1.5f).addFloatData(2.5f).build();
        GraphProto graph = GraphProto.newBuilder().setName("lookup")
                .addInput(value("token_ids", DataType.INT64_VALUE))
                .addInitializer(table)
                .addNode(node("Gather", "table", "token_ids", "embedding"))
                .addOutput(value("embedding", DataType.FLOAT_VALUE))
                .build();
        return model(graph);
    }

    private static byte[] model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("signature-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph).build().toByteArray();
    }

    private static NodeProto node(String op, String a, String b, String out) {
        return NodeProto.newBuilder().setOpType(op).setName(op + "_" + out).addInput(a).addInput(b).addOutput(out)
                .build();
    }

    private static ValueInfoProto value(String name, int type) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N")).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }
}
