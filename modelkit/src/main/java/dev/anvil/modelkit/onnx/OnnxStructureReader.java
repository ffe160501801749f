package dev.anvil.modelkit.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the header facts of an ONNX {@code ModelProto} straight off the protobuf wire: IR version,
 * opset imports, producer, node count and parameter count. ONNX Runtime's Java API exposes none of
 * these. The reader streams the file and skips tensor payloads, so a multi-gigabyte model costs no
 * more memory than a small one. Field numbers are those of onnx.proto (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto), which ONNX keeps stable across versions.
 */
public final class OnnxStructureReader {
    // ModelProto
    private static final int MODEL_IR_VERSION = 1;
    private static final int MODEL_PRODUCER_NAME = 2;
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET_IMPORT = 8;
    // OperatorSetIdProto
    private static final int OPSET_DOMAIN = 1;
    private static final int OPSET_VERSION = 2;
    // GraphProto
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_NAME = 2;
    private static final int GRAPH_INITIALIZER = 5;
    // NodeProto
    private static final int NODE_ATTRIBUTE = 5;
    private static final int NODE_OP_TYPE = 4;
    // AttributeProto
    private static final int ATTRIBUTE_TENSOR = 5;
    // TensorProto
    private static final int TENSOR_DIMS = 1;

    private static final int MAX_MESSAGE_BYTES = Integer.MAX_VALUE;

    public ModelStructure read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        } catch (IOException e) {
            throw new InvalidModelException("not an ONNX model: the file is not a readable protobuf ModelProto ("
                    + e.getMessage() + ")", e);
        }
    }

    ModelStructure read(InputStream stream) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(stream);
        in.setSizeLimit(MAX_MESSAGE_BYTES);
        long irVersion = 0;
        String producer = "";
        Map<String, Long> opsets = new TreeMap<>();
        GraphFacts graph = null;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                break;
            }
            switch (WireFormat.getTagFieldNumber(tag)) {
                case MODEL_IR_VERSION -> irVersion = expectVarint(in, tag, "ir_version");
                case MODEL_PRODUCER_NAME -> producer = expectString(in, tag, "producer_name");
                case MODEL_OPSET_IMPORT -> readOpset(in, tag, opsets);
                case MODEL_GRAPH -> graph = readGraph(in, tag);
                default -> skip(in, tag);
            }
        }
        if (irVersion <= 0) {
            throw new InvalidModelException("not an ONNX model: no ir_version field (a ModelProto always has one)");
        }
        if (graph == null) {
            throw new InvalidModelException("not an ONNX model: no graph in the file");
        }
        return new ModelStructure(irVersion, opsets, producer, graph.name, graph.nodes, graph.parameters);
    }

    private void readOpset(CodedInputStream in, int tag, Map<String, Long> opsets) throws IOException {
        int limit = enter(in, tag, "opset_import");
        String domain = "";
        long version = 0;
        while (!in.isAtEnd()) {
            int t = in.readTag();
            switch (WireFormat.getTagFieldNumber(t)) {
                case OPSET_DOMAIN -> domain = expectString(in, t, "opset_import.domain");
                case OPSET_VERSION -> version = expectVarint(in, t, "opset_import.version");
                default -> skip(in, t);
            }
        }
        in.popLimit(limit);
        opsets.put(domain.equals("ai.onnx") ? "" : domain, version);
    }

    private GraphFacts readGraph(CodedInputStream in, int tag) throws IOException {
        int limit = enter(in, tag, "graph");
        GraphFacts facts = new GraphFacts();
        while (!in.isAtEnd()) {
            int t = in.readTag();
            switch (WireFormat.getTagFieldNumber(t)) {
                case GRAPH_NODE -> readNode(in, t, facts);
                case GRAPH_NAME -> facts.name = expectString(in, t, "graph.name");
                case GRAPH_INITIALIZER -> facts.parameters += readTensorElementCount(in, t);
                default -> skip(in, t);
            }
        }
        in.popLimit(limit);
        return facts;
    }

    private void readNode(CodedInputStream in, int tag, GraphFacts facts) throws IOException {
        int limit = enter(in, tag, "node");
        facts.nodes++;
        String opType = "";
        List<Long> attributeTensors = new ArrayList<>();
        while (!in.isAtEnd()) {
            int t = in.readTag();
            switch (WireFormat.getTagFieldNumber(t)) {
                case NODE_OP_TYPE -> opType = expectString(in, t, "node.op_type");
                case NODE_ATTRIBUTE -> attributeTensors.add(readAttributeTensorElements(in, t));
                default -> skip(in, t);
            }
        }
        in.popLimit(limit);
        // Weights stored as Constant nodes (older exporters) count as parameters; tensors in other
        // attributes (e.g. ConstantOfShape's fill value) do not.
        if (opType.equals("Constant")) {
            facts.parameters += attributeTensors.stream().mapToLong(Long::longValue).sum();
        }
    }

    private long readAttributeTensorElements(CodedInputStream in, int tag) throws IOException {
        int limit = enter(in, tag, "attribute");
        long elements = 0;
        while (!in.isAtEnd()) {
            int t = in.readTag();
            if (WireFormat.getTagFieldNumber(t) == ATTRIBUTE_TENSOR) {
                elements += readTensorElementCount(in, t);
            } else {
                skip(in, t);
            }
        }
        in.popLimit(limit);
        return elements;
    }

    /** Product of the dims; the payload (raw_data, float_data, external data) is skipped. */
    private long readTensorElementCount(CodedInputStream in, int tag) throws IOException {
        int limit = enter(in, tag, "tensor");
        long elements = 1;
        while (!in.isAtEnd()) {
            int t = in.readTag();
            if (WireFormat.getTagFieldNumber(t) != TENSOR_DIMS) {
                skip(in, t);
            } else if (WireFormat.getTagWireType(t) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int packed = in.pushLimit(in.readRawVarint32());
                while (!in.isAtEnd()) {
                    elements *= Math.max(0, in.readInt64());
                }
                in.popLimit(packed);
            } else {
                elements *= Math.max(0, expectVarint(in, t, "tensor.dims"));
            }
        }
        in.popLimit(limit);
        return elements;
    }

    private static int enter(CodedInputStream in, int tag, String field) throws IOException {
        if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            throw new InvalidModelException("not an ONNX model: field '" + field + "' has the wrong wire type");
        }
        int length = in.readRawVarint32();
        if (length < 0) {
            throw new InvalidModelException("not an ONNX model: field '" + field + "' has a negative length");
        }
        return in.pushLimit(length);
    }

    private static long expectVarint(CodedInputStream in, int tag, String field) throws IOException {
        if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_VARINT) {
            throw new InvalidModelException("not an ONNX model: field '" + field + "' has the wrong wire type");
        }
        return in.readInt64();
    }

    private static String expectString(CodedInputStream in, int tag, String field) throws IOException {
        if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            throw new InvalidModelException("not an ONNX model: field '" + field + "' has the wrong wire type");
        }
        return in.readStringRequireUtf8();
    }

    private static void skip(CodedInputStream in, int tag) throws IOException {
        if (!in.skipField(tag)) {
            throw new InvalidModelException("not an ONNX model: unexpected end-group marker");
        }
    }

    private static final class GraphFacts {
        String name = "";
        int nodes;
        long parameters;
    }
}
