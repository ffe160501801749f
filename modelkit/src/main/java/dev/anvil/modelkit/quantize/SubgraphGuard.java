package dev.anvil.modelkit.quantize;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * INT8 quantisation rewrites the main graph only: a node inside an {@code If}, {@code Loop} or {@code Scan}
 * sub-graph stays float. Where a sub-graph holds nodes the options ask to quantise (an If whose branches hold
 * all the weights), quantising would publish a "quantised" model that is mostly float, so it is refused,
 * naming the node; listing the node in {@code exclude_nodes} says that keeping it float is intended.
 */
final class SubgraphGuard {
    private SubgraphGuard() {}

    /** @throws InvalidModelException naming the first control-flow node whose sub-graphs hold nodes to quantise */
    static void check(OnnxModel model, QuantizeOptions options) {
        for (NodeProto node : model.graph().nodes()) {
            if (!model.graph().hasSubgraphs(node) || options.excludeNodes().contains(node.getName())) {
                continue;
            }
            List<String> inner = new ArrayList<>();
            Set<String> constants = new HashSet<>(model.graph().initializers().keySet());
            collect(node, options, constants, inner);
            if (!inner.isEmpty()) {
                String name = node.getName().isEmpty() ? "(unnamed, output '" + node.getOutput(0) + "')"
                        : "'" + node.getName() + "'";
                throw new InvalidModelException("node " + name + " (" + node.getOpType() + ") holds a sub-graph with "
                        + inner.size() + " node" + (inner.size() == 1 ? "" : "s") + " to quantise (" + String.join(", ",
                        inner.subList(0, Math.min(5, inner.size()))) + (inner.size() > 5 ? ", ..." : "") + "):"
                        + " INT8 quantisation does not reach inside it, so they would stay float. Move the weights out of"
                        + " the sub-graph, or add " + (node.getName().isEmpty() ? "a name for the node" : name)
                        + " to exclude_nodes to quantise the rest and keep it float");
            }
        }
    }

    private static void collect(NodeProto node, QuantizeOptions options, Set<String> constants, List<String> into) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.hasG()) {
                collect(a.getG(), options, constants, into);
            }
            for (GraphProto g : a.getGraphsList()) {
                collect(g, options, constants, into);
            }
        }
    }

    /** Nodes of a selected type that read a constant (a weight): those the quantiser would have rewritten. */
    private static void collect(GraphProto graph, QuantizeOptions options, Set<String> outer, List<String> into) {
        Set<String> constants = new HashSet<>(outer);
        graph.getInitializerList().forEach(t -> constants.add(t.getName()));
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Constant") && OnnxGraph.canonicalDomain(n.getDomain()).isEmpty()) {
                constants.addAll(n.getOutputList());
            }
        }
        for (NodeProto n : graph.getNodeList()) {
            if (OnnxGraph.canonicalDomain(n.getDomain()).isEmpty() && options.opTypes().contains(n.getOpType())
                    && !options.excludeOpTypes().contains(n.getOpType()) && !options.excludeNodes().contains(n.getName())
                    && n.getInputList().stream().anyMatch(constants::contains)) {
                into.add(n.getOpType() + (n.getName().isEmpty() ? "" : " '" + n.getName() + "'"));
            }
            collect(n, options, constants, into);
        }
    }
}
