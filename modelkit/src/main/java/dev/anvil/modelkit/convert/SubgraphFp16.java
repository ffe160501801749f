package dev.anvil.modelkit.convert;

import ai.onnxruntime.OrtException;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Float16 inside the sub-graphs of If, Loop and Scan. The control-flow node keeps float32 at its boundary (its
 * inputs and outputs, so loop-carried values and branch outputs keep one type), and each sub-graph is converted
 * as a model of its own, with the same keep-io-types rule as the main graph: its weights are stored as float16,
 * its computation runs in float16, Casts to float16 follow its inputs and Casts back to float32 precede its
 * outputs.
 *
 * <p>A sub-graph reads outer tensors by name, and the outer graph may store those in float16 once converted; so
 * each float outer read goes through a Cast inside the sub-graph, which accepts either precision. ONNX Runtime
 * infers the sub-graph's types from a stand-alone copy whose inputs are the sub-graph's own and the outer
 * tensors it reads (typed as the outer graph's probe found them).
 */
final class SubgraphFp16 {
    /** ORT's type inference of a model, as {@link TensorTypes#probe} does it. */
    interface TypeProbe {
        TensorTypes probe(OnnxModel model) throws OrtException;
    }

    private final OnnxModel model;
    private final TensorTypes outerTypes;
    private final TypeProbe probe;
    int converted;
    int initializers;
    int casts;
    long clamped;
    final Map<String, Integer> kept = new TreeMap<>();

    SubgraphFp16(OnnxModel model, TensorTypes outerTypes, TypeProbe probe) {
        this.model = model;
        this.outerTypes = outerTypes;
        this.probe = probe;
    }

    /**
     * Converts every sub-graph of the node in place, adding to the counts above.
     *
     * @throws InvalidModelException naming the node when a sub-graph's types cannot be inferred
     */
    void convert(NodeProto.Builder node) {
        for (AttributeProto.Builder a : node.getAttributeBuilderList()) {
            if (a.hasG()) {
                a.setG(convert(node, a.getG()));
            }
            for (int i = 0; i < a.getGraphsCount(); i++) {
                a.setGraphs(i, convert(node, a.getGraphs(i)));
            }
        }
    }

    private GraphProto convert(NodeProto.Builder node, GraphProto sub) {
        Set<String> outerReads = freeNames(sub);
        outerReads.remove("");
        GraphProto.Builder g = sub.toBuilder();
        Set<String> formalInputs = new HashSet<>();
        g.getInputList().forEach(v -> formalInputs.add(v.getName()));
        Set<String> added = new LinkedHashSet<>();
        for (String name : outerReads) {
            int type = outerTypes.elemType(name).orElse(0);
            if (type == 0) {
                throw refusal(node, "the type of outer tensor '" + name + "' it reads is unknown");
            }
            g.addInput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type))));
            added.add(name);
        }
        OnnxModel standalone = OnnxModel.of(ModelProto.newBuilder(model.proto().build()).clearGraph()
                .clearMetadataProps().setGraph(g).build());
        // names made inside must not shadow the outer graph's
        for (String name : allNames(model.graph().proto().build())) {
            standalone.graph().uniqueName(name);
        }
        // a float outer read is cast to float32 first: the outer graph may hold it in float16 after conversion
        for (String name : added) {
            if (outerTypes.elemType(name).orElse(0) != DataType.FLOAT_VALUE) {
                continue;
            }
            String inner = standalone.graph().uniqueName(name + "_outer_fp32");
            rename(standalone.graph().proto(), name, inner);
            standalone.graph().addNode(Attrs.node("Cast", standalone.graph().uniqueName(inner + "/Cast"), List.of(name),
                    List.of(inner), Attrs.intAttr("to", DataType.FLOAT_VALUE)));
        }
        standalone.graph().sortTopologically();
        TensorTypes types;
        try {
            types = probe.probe(standalone);
        } catch (OrtException | RuntimeException e) {
            throw refusal(node, "ONNX Runtime cannot infer its types on its own (" + firstLine(e) + ")");
        }
        Fp16Converter.Summary inner = Fp16Converter.convert(standalone, types, probe);
        converted += 1 + inner.subgraphsConverted();
        initializers += inner.initializersConverted();
        casts += inner.castsInserted();
        clamped += inner.valuesClamped();
        inner.keptFloat32().forEach((op, n) -> kept.merge(op, n, Integer::sum));
        GraphProto.Builder result = standalone.graph().proto();
        for (int i = result.getInputCount() - 1; i >= 0; i--) {
            if (added.contains(result.getInput(i).getName()) && !formalInputs.contains(result.getInput(i).getName())) {
                result.removeInput(i);
            }
        }
        GraphProto converted = result.build();
        // reserve the names made inside in the outer graph, so its own Casts do not reuse them
        for (String name : allNames(converted)) {
            model.graph().uniqueName(name);
        }
        return converted;
    }

    private static InvalidModelException refusal(NodeProto.Builder node, String why) {
        String name = node.getName().isEmpty() ? "(unnamed, output '" + node.getOutput(0) + "')" : "'" + node.getName() + "'";
        return new InvalidModelException("node " + name + " (" + node.getOpType() + ") holds a sub-graph that fp16"
                + " conversion cannot convert: " + why + "; convert this model without fp16");
    }

    /** Renames reads of {@code from} in the graph's nodes and their sub-graphs (where not redefined). */
    private static void rename(GraphProto.Builder g, String from, String to) {
        for (NodeProto.Builder n : g.getNodeBuilderList()) {
            for (int i = 0; i < n.getInputCount(); i++) {
                if (n.getInput(i).equals(from)) {
                    n.setInput(i, to);
                }
            }
            for (AttributeProto.Builder a : n.getAttributeBuilderList()) {
                if (a.hasG() && !defined(a.getG()).contains(from)) {
                    GraphProto.Builder inner = a.getG().toBuilder();
                    rename(inner, from, to);
                    a.setG(inner);
                }
                for (int i = 0; i < a.getGraphsCount(); i++) {
                    if (!defined(a.getGraphs(i)).contains(from)) {
                        GraphProto.Builder inner = a.getGraphs(i).toBuilder();
                        rename(inner, from, to);
                        a.setGraphs(i, inner);
                    }
                }
            }
        }
    }

    /** Names a graph defines: its inputs, initializers and node outputs. */
    private static Set<String> defined(GraphProto g) {
        Set<String> names = new HashSet<>();
        g.getInputList().forEach(v -> names.add(v.getName()));
        g.getInitializerList().forEach(t -> names.add(t.getName()));
        g.getNodeList().forEach(n -> names.addAll(n.getOutputList()));
        return names;
    }

    /** Names a graph (with its nested sub-graphs) reads but does not define: what it takes from outer scopes. */
    private static Set<String> freeNames(GraphProto g) {
        Set<String> reads = new LinkedHashSet<>();
        for (NodeProto n : g.getNodeList()) {
            reads.addAll(n.getInputList());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    reads.addAll(freeNames(a.getG()));
                }
                a.getGraphsList().forEach(s -> reads.addAll(freeNames(s)));
            }
        }
        reads.removeAll(defined(g));
        return reads;
    }

    private static Set<String> allNames(GraphProto g) {
        Set<String> names = new HashSet<>(defined(g));
        g.getOutputList().forEach(v -> names.add(v.getName()));
        for (NodeProto n : g.getNodeList()) {
            names.add(n.getName());
            names.addAll(n.getInputList());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    names.addAll(allNames(a.getG()));
                }
                a.getGraphsList().forEach(s -> names.addAll(allNames(s)));
            }
        }
        names.remove("");
        return names;
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
