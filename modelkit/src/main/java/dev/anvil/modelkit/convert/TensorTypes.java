package dev.anvil.modelkit.convert;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Element type and rank of the tensors of a model's main graph, as ONNX Runtime infers them. ORT does
 * not report intermediate types directly, so the probe loads a copy of the model in which every node
 * output is also a graph output (without declared types) and reads the session's output info.
 *
 * <p>ORT reports an unknown shape as rank 0, so its rank-0 answers are not kept; ranks ORT leaves open
 * are filled by {@link RankRules} where the inputs' ranks decide them. Tensors inside sub-graphs are
 * not covered.
 */
public final class TensorTypes {
    /** Operators whose outputs all share the first output's rank (otherwise only the first output is inferred). */
    private static final Set<String> SAME_RANK_OUTPUTS = Set.of("Split", "TopK", "Dropout");

    private final Map<String, Integer> elemTypes;
    private final Map<String, Integer> ranks;

    private TensorTypes(Map<String, Integer> elemTypes, Map<String, Integer> ranks) {
        this.elemTypes = elemTypes;
        this.ranks = ranks;
    }

    /** No knowledge: every lookup is empty. */
    public static TensorTypes none() {
        return new TensorTypes(Map.of(), Map.of());
    }

    /**
     * Loads the model in ONNX Runtime (no optimisation) with every node output exposed, and records
     * what ORT inferred, plus the declared types of initializers and graph inputs.
     *
     * @throws OrtException when ORT cannot load the model
     */
    public static TensorTypes probe(OrtEnvironment environment, OnnxModel model) throws OrtException {
        ModelProto.Builder copy = model.build().toBuilder();
        GraphProto.Builder graph = copy.getGraphBuilder();
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(v -> outputs.add(v.getName()));
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        for (NodeProto node : graph.getNodeList()) {
            for (String out : node.getOutputList()) {
                if (!out.isEmpty() && !initializers.contains(out) && outputs.add(out)) {
                    graph.addOutput(ValueInfoProto.newBuilder().setName(out));
                }
            }
        }
        Map<String, Integer> elemTypes = new HashMap<>();
        Map<String, Integer> ranks = new HashMap<>();
        Map<String, long[]> dims = new HashMap<>();
        for (TensorProto t : graph.getInitializerList()) {
            elemTypes.put(t.getName(), t.getDataType());
            ranks.put(t.getName(), t.getDimsCount());
        }
        for (ValueInfoProto v : graph.getValueInfoList()) {
            declared(v, elemTypes, ranks);
        }
        for (ValueInfoProto v : graph.getInputList()) {
            declared(v, elemTypes, ranks);
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            try (OrtSession session = OrtSessions.open(environment, copy.build(), options)) {
                record(session.getInputInfo(), elemTypes, ranks, dims);
                record(session.getOutputInfo(), elemTypes, ranks, dims);
            }
        }
        propagateRanks(model, ranks, dims);
        return new TensorTypes(elemTypes, ranks);
    }

    private static void declared(ValueInfoProto v, Map<String, Integer> elemTypes, Map<String, Integer> ranks) {
        TypeProto type = v.getType();
        if (type.hasTensorType() && type.getTensorType().getElemType() != 0) {
            elemTypes.put(v.getName(), type.getTensorType().getElemType());
            if (type.getTensorType().hasShape()) {
                ranks.put(v.getName(), type.getTensorType().getShape().getDimCount());
            }
        }
    }

    private static void record(Map<String, NodeInfo> infos, Map<String, Integer> elemTypes, Map<String, Integer> ranks,
            Map<String, long[]> dims) {
        for (NodeInfo info : infos.values()) {
            if (info.getInfo() instanceof TensorInfo tensor) {
                elemTypes.put(info.getName(), onnxDataType(tensor.onnxType));
                // ORT reports an unknown shape as rank 0, like a scalar: only ranks of 1 and more are facts
                if (tensor.getShape().length > 0) {
                    ranks.put(info.getName(), tensor.getShape().length);
                    dims.put(info.getName(), tensor.getShape());
                }
            }
        }
    }

    /** Fills ranks ORT left open with {@link RankRules}, in topological order. */
    private static void propagateRanks(OnnxModel model, Map<String, Integer> ranks, Map<String, long[]> dims) {
        Map<String, long[]> constants = new HashMap<>();
        for (TensorProto t : model.graph().proto().getInitializerList()) {
            integerValues(t).ifPresent(v -> constants.put(t.getName(), v));
        }
        List<NodeProto> order = model.graph().topologicalOrder();
        for (NodeProto node : order) {
            if (node.getOpType().equals("Constant") && node.getOutputCount() == 1) {
                node.getAttributeList().stream().filter(a -> a.getName().equals("value") && a.hasT()).findFirst()
                        .ifPresent(a -> {
                            ranks.putIfAbsent(node.getOutput(0), a.getT().getDimsCount());
                            integerValues(a.getT()).ifPresent(v -> constants.put(node.getOutput(0), v));
                        });
                continue;
            }
            if (!OnnxGraph.canonicalDomain(node.getDomain()).isEmpty() || node.getOutputCount() == 0
                    || ranks.containsKey(node.getOutput(0))) {
                continue;
            }
            OptionalInt rank = RankRules.infer(node,
                    t -> ranks.containsKey(t) ? OptionalInt.of(ranks.get(t)) : OptionalInt.empty(),
                    t -> Optional.ofNullable(constants.get(t)), t -> Optional.ofNullable(dims.get(t)));
            if (rank.isPresent()) {
                int outputs = SAME_RANK_OUTPUTS.contains(node.getOpType()) ? node.getOutputCount() : 1;
                for (int i = 0; i < outputs; i++) {
                    if (!node.getOutput(i).isEmpty()) {
                        ranks.putIfAbsent(node.getOutput(i), rank.getAsInt());
                    }
                }
            }
        }
    }

    private static Optional<long[]> integerValues(TensorProto t) {
        if (t.getDataType() != TensorProto.DataType.INT64_VALUE && t.getDataType() != TensorProto.DataType.INT32_VALUE
                || t.getDimsCount() > 1 || t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return Optional.empty();
        }
        return Optional.of(Tensors.toLongs(t));
    }

    /** ORT's element-type enum numbers its values its own way (C API order); map by name to ONNX's. */
    private static int onnxDataType(TensorInfo.OnnxTensorType type) {
        String name = type.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length());
        try {
            return TensorProto.DataType.valueOf(name).getNumber();
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    /** The ONNX {@code TensorProto.DataType} number of the tensor, when known. */
    public OptionalInt elemType(String tensor) {
        Integer t = elemTypes.get(tensor);
        return t == null || t == 0 ? OptionalInt.empty() : OptionalInt.of(t);
    }

    /** The tensor's rank, when known (0 for known scalars). */
    public OptionalInt rank(String tensor) {
        Integer r = ranks.get(tensor);
        return r == null ? OptionalInt.empty() : OptionalInt.of(r);
    }

    public boolean isFloat(String tensor) {
        return elemType(tensor).orElse(-1) == TensorProto.DataType.FLOAT_VALUE;
    }
}
