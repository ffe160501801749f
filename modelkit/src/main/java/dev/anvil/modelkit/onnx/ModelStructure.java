package dev.anvil.modelkit.onnx;

import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.FunctionProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the ONNX file itself says, read without building a session (ONNX Runtime's Java API exposes
 * none of it): see {@link OnnxModel#readStructure}. Opsets are per domain, the default domain as
 * {@code ""}. Parameters are the elements of every initializer and Constant node the file stores:
 * the main graph's and those of control-flow sub-graphs ({@code If} branches, {@code Loop} and
 * {@code Scan} bodies, nested to any depth), where both branches of an {@code If} count because
 * both are stored, and the Constant nodes of model-local functions (once each, however often they
 * are called). Warnings are problems the file has that a runtime may forgive, each with its fix.
 */
public record ModelStructure(
        long irVersion,
        Map<String, Long> opsets,
        String producer,
        String graphName,
        int nodeCount,
        long parameterCount,
        List<String> warnings) {

    public ModelStructure {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    public static ModelStructure of(ModelProtoOrBuilder model) {
        Map<String, Long> opsets = domains(model.getOpsetImportList());
        GraphProtoOrBuilder graph = model.getGraph();
        long parameters = parameterCount(graph);
        for (FunctionProto function : model.getFunctionsList()) {
            parameters += constants(function.getNodeList());
        }
        return new ModelStructure(model.getIrVersion(), opsets, model.getProducerName(), graph.getName(),
                graph.getNodeCount(), parameters, undeclaredDomains(model, opsets.keySet()));
    }

    private static Map<String, Long> domains(List<OperatorSetIdProto> imports) {
        Map<String, Long> opsets = new TreeMap<>();
        for (OperatorSetIdProto id : imports) {
            opsets.put(OnnxGraph.canonicalDomain(id.getDomain()), id.getVersion());
        }
        return opsets;
    }

    private static long parameterCount(GraphProtoOrBuilder graph) {
        long parameters = 0;
        for (TensorProto initializer : graph.getInitializerList()) {
            parameters += elements(initializer);
        }
        parameters += constants(graph.getNodeList());
        for (NodeProto node : graph.getNodeList()) {
            for (AttributeProto attribute : node.getAttributeList()) {
                if (attribute.hasG()) {
                    parameters += parameterCount(attribute.getG());
                }
                for (GraphProto subgraph : attribute.getGraphsList()) {
                    parameters += parameterCount(subgraph);
                }
            }
        }
        return parameters;
    }

    /**
     * Weights stored as Constant nodes (older exporters) count as parameters; tensors in other
     * nodes' attributes (e.g. ConstantOfShape's fill value) do not.
     */
    private static long constants(List<NodeProto> nodes) {
        long parameters = 0;
        for (NodeProto node : nodes) {
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

    /**
     * One warning per operator domain that some node uses but nothing imports (an exporter bug that
     * ONNX Runtime forgives for its own domains and other tools do not). Nodes of the main graph and
     * its sub-graphs need the model's import; nodes of a local function need the function's or the
     * model's.
     */
    private static List<String> undeclaredDomains(ModelProtoOrBuilder model, Set<String> imported) {
        Map<String, List<String>> users = new LinkedHashMap<>();
        collectUndeclared(model.getGraph(), "", imported, users);
        for (FunctionProto function : model.getFunctionsList()) {
            Set<String> visible = new TreeSet<>(imported);
            visible.addAll(domains(function.getOpsetImportList()).keySet());
            String where = " in function '" + function.getName() + "'";
            for (NodeProto node : function.getNodeList()) {
                noteIfUndeclared(node, where, visible, users);
                collectUndeclaredIn(node, where, visible, users);
            }
        }
        List<String> warnings = new ArrayList<>();
        users.forEach((domain, nodes) -> {
            String named = domain.isEmpty() ? "ai.onnx" : domain;
            warnings.add(nodes.get(0)
                    + (nodes.size() > 1 ? " and " + (nodes.size() - 1) + " more node(s)" : "")
                    + " use" + (nodes.size() > 1 ? "" : "s") + " domain '" + named + "', which the model does not"
                    + " import: add an opset_import for it (domain '" + named + "' with the operator set version"
                    + " the nodes were written for)");
        });
        return warnings;
    }

    private static void collectUndeclared(GraphProtoOrBuilder graph, String where, Set<String> imported,
                                          Map<String, List<String>> users) {
        for (NodeProto node : graph.getNodeList()) {
            noteIfUndeclared(node, where, imported, users);
            collectUndeclaredIn(node, where, imported, users);
        }
    }

    private static void collectUndeclaredIn(NodeProto node, String where, Set<String> imported,
                                            Map<String, List<String>> users) {
        for (AttributeProto attribute : node.getAttributeList()) {
            String inside = " in sub-graph '" + attribute.getName() + "' of node '" + node.getName() + "'" + where;
            if (attribute.hasG()) {
                collectUndeclared(attribute.getG(), inside, imported, users);
            }
            for (GraphProto subgraph : attribute.getGraphsList()) {
                collectUndeclared(subgraph, inside, imported, users);
            }
        }
    }

    private static void noteIfUndeclared(NodeProto node, String where, Set<String> imported,
                                         Map<String, List<String>> users) {
        String domain = OnnxGraph.canonicalDomain(node.getDomain());
        if (!imported.contains(domain)) {
            users.computeIfAbsent(domain, d -> new ArrayList<>())
                    .add("node '" + node.getName() + "' (" + node.getOpType() + ")" + where);
        }
    }
}
