package dev.anvil.modelkit.onnx;

import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the ONNX file itself says, read without building a session (ONNX Runtime's Java API exposes
 * none of it): see {@link OnnxModel#readStructure}. Opsets are per domain, the default domain as
 * {@code ""}; parameters are the elements of the main graph's initializers and Constant nodes.
 */
public record ModelStructure(
        long irVersion,
        Map<String, Long> opsets,
        String producer,
        String graphName,
        int nodeCount,
        long parameterCount) {

    public static ModelStructure of(ModelProtoOrBuilder model) {
        Map<String, Long> opsets = new TreeMap<>();
        for (OperatorSetIdProto id : model.getOpsetImportList()) {
            opsets.put(OnnxGraph.canonicalDomain(id.getDomain()), id.getVersion());
        }
        GraphProtoOrBuilder graph = model.getGraph();
        return new ModelStructure(model.getIrVersion(), opsets, model.getProducerName(), graph.getName(),
                graph.getNodeCount(), parameterCount(graph));
    }

    private static long parameterCount(GraphProtoOrBuilder graph) {
        long parameters = 0;
        for (TensorProto initializer : graph.getInitializerList()) {
            parameters += elements(initializer);
        }
        // Weights stored as Constant nodes (older exporters) count as parameters; tensors in other
        // nodes' attributes (e.g. ConstantOfShape's fill value) do not.
        for (NodeProto node : graph.getNodeList()) {
            if (node.getOpType().equals("Constant")) {
                for (AttributeProto attribute : node.getAttributeList()) {
                    parameters += attribute.hasT() ? elements(attribute.getT()) : 0;
                }
            }
        }
        return parameters;
    }

    /** The product of the dims (a scalar has one element); the payload is never looked at. */
    private static long elements(TensorProto tensor) {
        long elements = 1;
        for (long dim : tensor.getDimsList()) {
            elements *= Math.max(0, dim);
        }
        return elements;
    }
}
