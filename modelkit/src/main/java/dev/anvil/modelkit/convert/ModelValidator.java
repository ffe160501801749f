package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Structural checks that need no runtime: every node input is produced by a node, an initializer or
 * a graph input (and the graph has no cycle); every tensor is written once; every graph output is
 * produced; every domain a node uses has an opset import. Loading in ONNX Runtime is the other half
 * of validation ({@link ModelConverter}).
 */
public final class ModelValidator {
    private ModelValidator() {}

    /** @throws InvalidModelException naming the first problem found */
    public static void check(OnnxModel model) {
        OnnxGraph graph = model.graph();
        graph.topologicalOrder(); // dangling inputs and cycles, sub-graphs' outer reads included
        GraphProto.Builder g = graph.proto();
        Map<String, String> writers = new HashMap<>();
        for (NodeProto node : g.getNodeList()) {
            if (node.getOpType().isEmpty()) {
                throw new InvalidModelException("a node (outputs " + node.getOutputList() + ") has no op_type");
            }
            for (String out : node.getOutputList()) {
                if (out.isEmpty()) {
                    continue;
                }
                String earlier = writers.put(out, Attrs.describe(node));
                if (earlier != null) {
                    throw new InvalidModelException("tensor '" + out + "' is written by both " + earlier + " and "
                            + Attrs.describe(node) + "; an ONNX graph assigns each tensor once");
                }
            }
        }
        Set<String> available = new HashSet<>(writers.keySet());
        g.getInputList().forEach(v -> available.add(v.getName()));
        g.getInitializerList().forEach(t -> available.add(t.getName()));
        for (ValueInfoProto out : g.getOutputList()) {
            if (!available.contains(out.getName())) {
                throw new InvalidModelException("graph output '" + out.getName()
                        + "' is not produced by any node, initializer or graph input");
            }
        }
        if (g.getOutputCount() == 0) {
            throw new InvalidModelException("the graph has no outputs");
        }
        Set<String> imported = model.opsets().keySet();
        checkDomains(g.build(), imported);
    }

    private static void checkDomains(GraphProto g, Set<String> imported) {
        for (NodeProto node : g.getNodeList()) {
            String domain = OnnxGraph.canonicalDomain(node.getDomain());
            if (!imported.contains(domain)) {
                throw new InvalidModelException(Attrs.describe(node) + " uses domain '"
                        + (domain.isEmpty() ? "ai.onnx" : domain) + "', which the model does not import (opset_import lists "
                        + imported.stream().map(d -> d.isEmpty() ? "ai.onnx" : d).sorted().toList() + ")");
            }
            for (AttributeProto a : node.getAttributeList()) {
                if (a.hasG()) {
                    checkDomains(a.getG(), imported);
                }
                for (GraphProto sub : a.getGraphsList()) {
                    checkDomains(sub, imported);
                }
            }
        }
    }
}
