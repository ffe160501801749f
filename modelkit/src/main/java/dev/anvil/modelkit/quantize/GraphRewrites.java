package dev.anvil.modelkit.quantize;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.HashMap;
import java.util.Map;

/**
 * Steps the planner and the static and dynamic rewrites share: storing a Gather's weight table in 8 bits
 * (done the same way in both modes), finishing a rewritten model, finding nodes and reading attributes.
 */
final class GraphRewrites {

    private GraphRewrites() {}

    /**
     * Gather over a float weight table (embeddings) reads an 8-bit table instead; a DequantizeLinear turns
     * the gathered rows back into floats, so only they are restored.
     */
    static void quantizeGather(OnnxGraph graph, NodeProto.Builder gather, QuantizeOptions options) {
        TensorProto table = graph.initializer(gather.getInput(0)).orElseThrow();
        QuantType type = options.weightType();
        long[] dims = Tensors.dims(table);
        QuantizedWeights quantized = QuantizedWeights.of(Tensors.toFloats(table), dims, -1, type);
        String base = table.getName();
        String qName = graph.uniqueName(base + "_q");
        String scaleName = graph.uniqueName(base + "_s");
        String zeroName = graph.uniqueName(base + "_zp");
        graph.addInitializer(Tensors.bytes(qName, type.onnxType, dims, quantized.values()));
        graph.addInitializer(Tensors.floats(scaleName, new long[0], quantized.scales()));
        graph.addInitializer(Tensors.bytes(zeroName, type.onnxType, new long[0], quantized.zeros()));
        String output = gather.getOutput(0);
        String gathered = graph.uniqueName(output + "_quantized");
        gather.setInput(0, qName).setOutput(0, gathered);
        graph.addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(graph.uniqueName(gather.getName() + "_DequantizeLinear"))
                .addInput(gathered).addInput(scaleName).addInput(zeroName).addOutput(output).build());
    }

    /** Drops the float weights nothing reads any more, restores topological order and records the settings. */
    static void finish(OnnxModel model, QuantizeOptions options) {
        OnnxGraph graph = model.graph();
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.quantization", options.mode().name().toLowerCase()
                + (options.mode() == QuantizeOptions.Mode.STATIC ? "/" + options.method().wireName() : "")
                + ", activations " + options.activationType().wireName() + ", weights " + options.weightType().wireName()
                + (options.perChannel() ? " per channel" : " per tensor"));
    }

    static Map<String, NodeProto> nodesByName(OnnxGraph graph) {
        Map<String, NodeProto> byName = new HashMap<>();
        graph.nodes().forEach(n -> byName.put(n.getName(), n));
        return byName;
    }

    /** The node's builder, for rewriting it in place. */
    static NodeProto.Builder nodeBuilder(OnnxGraph graph, String name) {
        for (NodeProto.Builder b : graph.proto().getNodeBuilderList()) {
            if (b.getName().equals(name)) {
                return b;
            }
        }
        throw new IllegalStateException("node '" + name + "' disappeared during the rewrite");
    }

    static long intAttr(NodeProto node, String name, long fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return fallback;
    }

    static float floatAttr(NodeProto node, String name, float fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getF();
            }
        }
        return fallback;
    }
}
