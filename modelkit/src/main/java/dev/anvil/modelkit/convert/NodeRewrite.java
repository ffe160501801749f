package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * One node being carried across opset versions: the node (edited in place), the nodes to insert just
 * before and just after it (so the graph stays in topological order without a re-sort, which also
 * works inside sub-graphs), and what the adapters may consult: element types and ranks from the
 * ORT probe (main graph only), constants of the node's graph, and which tensors anything reads.
 */
final class NodeRewrite {
    final NodeProto.Builder node;
    final List<NodeProto> before = new ArrayList<>();
    final List<NodeProto> after = new ArrayList<>();
    final long fromOpset;
    final long targetOpset;
    private final GraphProto.Builder graph;
    private final OnnxGraph names;
    private final TensorTypes types;
    private final boolean inSubgraph;
    private final Set<String> read;

    NodeRewrite(NodeProto.Builder node, GraphProto.Builder graph, OnnxGraph names, TensorTypes types,
            boolean inSubgraph, Set<String> read, long fromOpset, long targetOpset) {
        this.node = node;
        this.graph = graph;
        this.names = names;
        this.types = types;
        this.inSubgraph = inSubgraph;
        this.read = read;
        this.fromOpset = fromOpset;
        this.targetOpset = targetOpset;
    }

    /** A name no tensor or node of the model uses yet. */
    String name(String base) {
        return names.uniqueName(base);
    }

    OptionalInt rank(String tensor) {
        return inSubgraph ? OptionalInt.empty() : types.rank(tensor);
    }

    /** The tensor's element type; {@code fallback} when the probe could not tell (e.g. inside a sub-graph). */
    int elemType(String tensor, int fallback) {
        return inSubgraph ? fallback : types.elemType(tensor).orElse(fallback);
    }

    /** Whether any node (any graph) or graph output reads the tensor. */
    boolean isRead(String tensor) {
        return read.contains(tensor);
    }

    /** Adds a constant to the node's graph as an initializer with a fresh name built from {@code base}. */
    String constant(String base, TensorProto value) {
        String name = name(base);
        graph.addInitializer(value.toBuilder().setName(name));
        return name;
    }

    String int64s(String base, long... values) {
        return constant(base, Tensors.int64s("", new long[] {values.length}, values));
    }

    /** A scalar of the given floating-point type, for inputs typed like the node's data (Clip, Pad). */
    String floatScalar(String base, int dataType, double value) {
        TensorProto tensor;
        if (dataType == DataType.FLOAT_VALUE) {
            tensor = Tensors.floats("", new long[0], new float[] {(float) value});
        } else if (dataType == DataType.FLOAT16_VALUE) {
            tensor = Tensors.float16s("", new long[0], new float[] {(float) value});
        } else if (dataType == DataType.DOUBLE_VALUE) {
            ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(value);
            tensor = TensorProto.newBuilder().setDataType(DataType.DOUBLE_VALUE)
                    .setRawData(com.google.protobuf.ByteString.copyFrom(buf.array())).build();
        } else {
            throw new InvalidModelException(Attrs.describe(node) + " has data of type "
                    + DataType.forNumber(dataType) + "; its attribute value cannot become an input of that type here");
        }
        return constant(base, tensor);
    }

    /** The value of a tensor that is an initializer or a {@code Constant} node's output in the node's graph. */
    Optional<TensorProto> constantValue(String tensor) {
        for (TensorProto t : graph.getInitializerList()) {
            if (t.getName().equals(tensor)) {
                return Optional.of(t);
            }
        }
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Constant") && n.getOutputCount() == 1 && n.getOutput(0).equals(tensor)) {
                return Attrs.get(n, "value").filter(a -> a.hasT()).map(a -> a.getT());
            }
        }
        return Optional.empty();
    }

    /** A failure naming the node and the version step it cannot cross. */
    InvalidModelException cannot(int version, String why) {
        return new InvalidModelException(Attrs.describe(node) + ": " + node.getOpType() + " changed at opset " + version
                + " and " + why + "; the model cannot be raised from opset " + fromOpset + " to " + targetOpset
                + " (opset " + (version - 1) + " is the highest this node allows)");
    }
}
