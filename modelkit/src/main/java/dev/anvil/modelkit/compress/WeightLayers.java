package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layers a compression rewrite may touch: Conv, Gemm and MatMul nodes of the main graph whose weight
 * (input 1) is a float initializer. A layer is named by its node; unnamed nodes are named first, so
 * reports and options can refer to every layer.
 */
public final class WeightLayers {
    /** The op types whose weight input (index 1) compression rewrites. */
    public static final Set<String> OP_TYPES = Set.of("Conv", "Gemm", "MatMul");

    /** A layer: its node, op type, and weight initializer. */
    public record Layer(String name, String opType, String weight, long[] dims) {
        public long params() {
            return Tensors.elementCount(dims);
        }
    }

    private WeightLayers() {}

    /**
     * The model's weight layers in graph order. Names unnamed nodes in place.
     *
     * @throws IllegalArgumentException when the model has control-flow sub-graphs (If, Loop, Scan), naming them:
     *     their weights are out of reach of these rewrites, and a half-compressed model would be misreported
     */
    public static List<Layer> of(OnnxModel model) {
        OnnxGraph graph = model.graph();
        graph.nameNodes();
        List<String> controlFlow = new ArrayList<>();
        for (NodeProto node : graph.nodes()) {
            if (graph.hasSubgraphs(node)) {
                controlFlow.add(node.getName() + " (" + node.getOpType() + ")");
            }
        }
        if (!controlFlow.isEmpty()) {
            throw new IllegalArgumentException("the model has control-flow sub-graphs in nodes " + controlFlow
                    + "; compression rewrites only the main graph and refuses such models rather than compress them in part");
        }
        Map<String, TensorProto> initializers = graph.initializers();
        Map<String, Integer> readers = new LinkedHashMap<>();
        for (NodeProto node : graph.nodes()) {
            for (String input : node.getInputList()) {
                readers.merge(input, 1, Integer::sum);
            }
        }
        List<Layer> layers = new ArrayList<>();
        for (NodeProto node : graph.nodes()) {
            if (!OP_TYPES.contains(node.getOpType()) || node.getInputCount() < 2 || !node.getDomain().isEmpty()
                    && !node.getDomain().equals("ai.onnx")) {
                continue;
            }
            TensorProto weight = initializers.get(node.getInput(1));
            if (weight == null || !Tensors.isFloat(weight) || weight.getDataType() != TensorProto.DataType.FLOAT_VALUE
                    || Tensors.dims(weight).length < 2 || readers.get(weight.getName()) != 1) {
                continue; // a weight read by two nodes is left alone: rewriting it for one would change the other
            }
            layers.add(new Layer(node.getName(), node.getOpType(), weight.getName(), Tensors.dims(weight)));
        }
        return layers;
    }

    /**
     * Checks that every name is a layer of the model.
     *
     * @throws IllegalArgumentException naming the unknown layers and listing those that exist
     */
    public static void requireKnown(List<Layer> layers, Collection<String> names, String what) {
        Set<String> known = new java.util.LinkedHashSet<>();
        layers.forEach(l -> known.add(l.name()));
        List<String> unknown = names.stream().filter(n -> !known.contains(n)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(what + " names no layer of the model: " + unknown
                    + "; the layers (Conv, Gemm, MatMul with a float weight) are " + known);
        }
    }

    /** Replaces an initializer's contents, keeping its name and dims. */
    static void replace(OnnxGraph graph, String name, float[] values) {
        var list = graph.proto().getInitializerBuilderList();
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).getName().equals(name)) {
                graph.proto().setInitializer(i, Tensors.floats(name, Tensors.dims(graph.proto().getInitializer(i)), values));
                return;
            }
        }
        throw new IllegalStateException("initializer '" + name + "' disappeared during the rewrite");
    }

    /**
     * Adds an initializer; models of IR version 3 list every initializer among the graph inputs as well, so
     * there it is declared as an input too.
     */
    static void addInitializer(OnnxModel model, TensorProto tensor) {
        model.graph().addInitializer(tensor);
        if (model.proto().getIrVersion() < 4) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            for (long d : Tensors.dims(tensor)) {
                shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            model.graph().proto().addInput(ValueInfoProto.newBuilder().setName(tensor.getName()).setType(
                    TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(tensor.getDataType())
                            .setShape(shape))));
        }
    }

    static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
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

    /** The builder of the node named {@code name}, for rewriting it in place. */
    static NodeProto.Builder nodeBuilder(OnnxGraph graph, String name) {
        for (NodeProto.Builder b : graph.proto().getNodeBuilderList()) {
            if (b.getName().equals(name)) {
                return b;
            }
        }
        throw new IllegalStateException("node '" + name + "' disappeared during the rewrite");
    }
}
