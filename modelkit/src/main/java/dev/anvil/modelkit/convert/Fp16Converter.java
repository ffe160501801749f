package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Converts a model's float32 computation to float16 while its graph inputs and outputs stay float32
 * (the "keep_io_types" behaviour of onnxconverter-common): float initializers and constants are stored
 * as float16, Casts to float become Casts to float16, a Cast to float16 follows each float graph input
 * and a Cast back to float precedes each float graph output.
 *
 * <p>Nodes that must keep float32 stay as they are, with Casts around their float inputs and outputs:
 * operators with float-only inputs or no half-precision meaning (Resize and Upsample scales, Range,
 * TopK, CumSum, RoiAlign, NonMaxSuppression, quantisation and random ops, signal windows) and every
 * operator outside the default domain (ORT's fused ops that extended/all optimisation emits). Their
 * weights are still stored as float16 and cast up. Element types come from an ORT probe of the model
 * ({@link TensorTypes}). Control-flow nodes (If, Loop, Scan) keep float32 at their boundary and their
 * sub-graphs are converted inside ({@link SubgraphFp16}); without a way to probe the sub-graphs' types they are
 * refused, naming the node.
 */
public final class Fp16Converter {
    static final Set<String> KEEP_FLOAT32 = Set.of("Resize", "Upsample", "Range", "NonMaxSuppression", "RoiAlign", "TopK",
            "CumSum", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul",
            "MatMulInteger", "ConvInteger", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
            "Multinomial", "Bernoulli", "EyeLike", "STFT", "DFT", "HannWindow", "HammingWindow", "BlackmanWindow",
            "MelWeightMatrix");
    /** Largest finite float16. */
    private static final float FP16_MAX = 65504f;
    private static final int FLOAT = DataType.FLOAT_VALUE;
    private static final int FLOAT16 = DataType.FLOAT16_VALUE;

    /**
     * What the conversion did; counts include the sub-graphs'.
     *
     * @param subgraphsConverted If/Loop/Scan sub-graphs converted inside (their nodes keep float32 at the boundary)
     */
    public record Summary(int initializersConverted, long valuesClamped, int castsInserted,
            Map<String, Integer> keptFloat32, int subgraphsConverted) {}

    private final OnnxModel model;
    private final GraphProto.Builder graph;
    private final TensorTypes types;
    private final SubgraphFp16.TypeProbe probe;
    private final Map<String, String> fp32Views = new HashMap<>();
    private final Map<String, String> fp16Views = new HashMap<>();
    private final Set<String> half = new HashSet<>();
    private int casts;
    private long clamped;

    private Fp16Converter(OnnxModel model, TensorTypes types, SubgraphFp16.TypeProbe probe) {
        this.model = model;
        this.graph = model.graph().proto();
        this.types = types;
        this.probe = probe;
    }

    /**
     * Converts the model in place.
     *
     * @param types element types of the model's tensors, from {@link TensorTypes#probe} of this model
     * @throws InvalidModelException when the model has control-flow sub-graphs
     */
    public static Summary convert(OnnxModel model, TensorTypes types) {
        return new Fp16Converter(model, types, null).run();
    }

    /**
     * Converts the model in place, control-flow sub-graphs included.
     *
     * @param probe infers a model's element types (for each sub-graph, as a model of its own)
     * @throws InvalidModelException naming the node when a sub-graph cannot be converted
     */
    static Summary convert(OnnxModel model, TensorTypes types, SubgraphFp16.TypeProbe probe) {
        return new Fp16Converter(model, types, probe).run();
    }

    private Summary run() {
        SubgraphFp16 subgraphs = probe == null ? null : new SubgraphFp16(model, types, probe);
        for (NodeProto.Builder node : graph.getNodeBuilderList()) {
            if (isControlFlow(node) && subgraphs != null) {
                subgraphs.convert(node);
            }
        }
        for (NodeProto node : graph.getNodeList()) {
            if (subgraphs == null && model.graph().hasSubgraphs(node)) {
                String name = node.getName().isEmpty() ? "(unnamed, output '" + node.getOutput(0) + "')"
                        : "'" + node.getName() + "'";
                throw new InvalidModelException("node " + name + " (" + node.getOpType() + ") holds a sub-graph: fp16"
                        + " conversion does not reach inside control-flow sub-graphs (If, Loop, Scan), and half a model in"
                        + " float16 would not type-check; convert this model without fp16");
            }
        }
        Set<String> graphOutputs = new HashSet<>();
        graph.getOutputList().forEach(v -> graphOutputs.add(v.getName()));

        // 1. float initializers are stored as float16 (not those that are graph outputs themselves)
        int converted = 0;
        for (TensorProto.Builder t : graph.getInitializerBuilderList()) {
            if (t.getDataType() == FLOAT && !graphOutputs.contains(t.getName())) {
                TensorProto half16 = toHalf(t.build());
                t.clear().mergeFrom(half16);
                half.add(t.getName());
                converted++;
            }
        }
        // IR 3 lists initializers among the graph inputs (as overridable defaults); converted weights are
        // constants from now on, which needs IR 4
        for (int i = graph.getInputCount() - 1; i >= 0; i--) {
            if (half.contains(graph.getInput(i).getName())) {
                graph.removeInput(i);
                if (model.proto().getIrVersion() < 4) {
                    model.proto().setIrVersion(4);
                }
            }
        }
        // 2. the float outputs of converted nodes become float16
        Map<String, Integer> kept = new TreeMap<>();
        for (NodeProto.Builder node : graph.getNodeBuilderList()) {
            if (keepsFloat32(node)) {
                if (!isControlFlow(node)) { // its sub-graphs were converted inside; only its boundary is float32
                    kept.merge(qualified(node), 1, Integer::sum);
                }
                continue;
            }
            rewriteTypeAttributes(node);
            for (String out : node.getOutputList()) {
                if (!out.isEmpty() && types.isFloat(out)) {
                    half.add(out);
                }
            }
        }
        // 3. float graph outputs computed in float16 get a Cast back under their own name
        Map<String, String> renamed = new HashMap<>();
        for (ValueInfoProto out : graph.getOutputList()) {
            String name = out.getName();
            if (half.contains(name)) {
                String inner = model.graph().uniqueName(name + "_fp16");
                renamed.put(name, inner);
                half.remove(name);
                half.add(inner);
            }
        }
        if (!renamed.isEmpty()) {
            for (NodeProto.Builder node : graph.getNodeBuilderList()) {
                for (int i = 0; i < node.getOutputCount(); i++) {
                    String to = renamed.get(node.getOutput(i));
                    if (to != null) {
                        node.setOutput(i, to);
                    }
                }
                for (int i = 0; i < node.getInputCount(); i++) {
                    String to = renamed.get(node.getInput(i));
                    if (to != null) {
                        node.setInput(i, to);
                    }
                }
            }
        }
        // 4. every float input gets the precision its node computes in
        List<NodeProto.Builder> nodes = List.copyOf(graph.getNodeBuilderList());
        for (NodeProto.Builder node : nodes) {
            boolean wantsHalf = !keepsFloat32(node);
            for (int i = 0; i < node.getInputCount(); i++) {
                String in = node.getInput(i);
                if (in.isEmpty() || !isFloatTensor(in)) {
                    continue;
                }
                boolean isHalf = half.contains(in);
                if (wantsHalf && !isHalf) {
                    node.setInput(i, view(in, FLOAT16));
                } else if (!wantsHalf && isHalf) {
                    node.setInput(i, view(in, FLOAT));
                }
            }
        }
        renamed.forEach((output, inner) -> addCast(inner, output, FLOAT));
        graph.clearValueInfo(); // element types changed; ORT infers them again
        model.graph().sortTopologically();
        if (subgraphs != null) {
            converted += subgraphs.initializers;
            clamped += subgraphs.clamped;
            casts += subgraphs.casts;
            subgraphs.kept.forEach((op, n) -> kept.merge(op, n, Integer::sum));
        }
        return new Summary(converted, clamped, casts, kept, subgraphs == null ? 0 : subgraphs.converted);
    }

    /** Whether the tensor is float32 in the source model (graph inputs, initializers, node outputs). */
    private boolean isFloatTensor(String name) {
        return half.contains(name) || types.isFloat(name);
    }

    private static boolean keepsFloat32(NodeProto.Builder node) {
        return !OnnxGraph.canonicalDomain(node.getDomain()).isEmpty() || KEEP_FLOAT32.contains(node.getOpType())
                || isControlFlow(node);
    }

    private static boolean isControlFlow(NodeProto.Builder node) {
        return node.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0);
    }

    private static String qualified(NodeProto.Builder node) {
        String domain = OnnxGraph.canonicalDomain(node.getDomain());
        return domain.isEmpty() ? node.getOpType() : domain + ":" + node.getOpType();
    }

    /** Cast, Constant and ConstantOfShape say their output type in attributes. */
    private void rewriteTypeAttributes(NodeProto.Builder node) {
        switch (node.getOpType()) {
            case "Cast" -> {
                if (Attrs.getInt(node, "to").orElse(0L) == FLOAT) {
                    Attrs.setInt(node, "to", FLOAT16);
                }
            }
            case "ConstantOfShape" -> {
                TensorProto value = Attrs.get(node, "value").map(AttributeProto::getT)
                        .orElse(Tensors.floats("", new long[] {1}, new float[] {0f}));
                if (value.getDataType() == FLOAT) {
                    Attrs.set(node, Attrs.tensorAttr("value", toHalf(value)));
                }
            }
            case "Constant" -> {
                if (Attrs.get(node, "value").filter(a -> a.getT().getDataType() == FLOAT).isPresent()) {
                    Attrs.set(node, Attrs.tensorAttr("value", toHalf(Attrs.get(node, "value").get().getT())));
                } else if (Attrs.get(node, "value_float").isPresent()) {
                    float f = Attrs.getFloat(node, "value_float").get();
                    Attrs.remove(node, "value_float");
                    Attrs.set(node, Attrs.tensorAttr("value", toHalf(Tensors.floats("", new long[0], new float[] {f}))));
                } else if (Attrs.get(node, "value_floats").isPresent()) {
                    float[] fs = Attrs.getFloats(node, "value_floats").get();
                    Attrs.remove(node, "value_floats");
                    Attrs.set(node, Attrs.tensorAttr("value",
                            toHalf(Tensors.floats("", new long[] {fs.length}, fs))));
                }
            }
            default -> {
                // the output type follows the inputs
            }
        }
    }

    /** The tensor in the other precision, through one shared Cast per tensor and precision. */
    private String view(String tensor, int to) {
        Map<String, String> views = to == FLOAT16 ? fp16Views : fp32Views;
        return views.computeIfAbsent(tensor, t -> {
            String name = model.graph().uniqueName(t + (to == FLOAT16 ? "_fp16" : "_fp32"));
            addCast(t, name, to);
            return name;
        });
    }

    private void addCast(String from, String to, int type) {
        model.graph().addNode(Attrs.node("Cast", model.graph().uniqueName(to + "/Cast"), List.of(from), List.of(to),
                Attrs.intAttr("to", type)));
        casts++;
    }

    private TensorProto toHalf(TensorProto tensor) {
        float[] values = Tensors.toFloats(tensor);
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (Math.abs(v) > FP16_MAX && Float.isFinite(v)) {
                values[i] = Math.copySign(FP16_MAX, v);
                clamped++;
            }
        }
        return Tensors.float16s(tensor.getName(), Tensors.dims(tensor), values);
    }
}
