package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.List;
import java.util.Optional;

/** Reading and editing node attributes, and building the small nodes the rewrites insert. */
final class Attrs {
    private Attrs() {}

    static Optional<AttributeProto> get(NodeProtoOrBuilder node, String name) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    static Optional<Long> getInt(NodeProtoOrBuilder node, String name) {
        return get(node, name).map(AttributeProto::getI);
    }

    static Optional<Float> getFloat(NodeProtoOrBuilder node, String name) {
        return get(node, name).map(AttributeProto::getF);
    }

    static Optional<String> getString(NodeProtoOrBuilder node, String name) {
        return get(node, name).map(a -> a.getS().toStringUtf8());
    }

    static Optional<long[]> getInts(NodeProtoOrBuilder node, String name) {
        return get(node, name).map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray());
    }

    static Optional<float[]> getFloats(NodeProtoOrBuilder node, String name) {
        return get(node, name).map(a -> {
            float[] fs = new float[a.getFloatsCount()];
            for (int i = 0; i < fs.length; i++) {
                fs[i] = a.getFloats(i);
            }
            return fs;
        });
    }

    /** Removes the attribute if present; returns whether it was there. */
    static boolean remove(NodeProto.Builder node, String name) {
        for (int i = 0; i < node.getAttributeCount(); i++) {
            if (node.getAttribute(i).getName().equals(name)) {
                node.removeAttribute(i);
                return true;
            }
        }
        return false;
    }

    static void set(NodeProto.Builder node, AttributeProto attribute) {
        remove(node, attribute.getName());
        node.addAttribute(attribute);
    }

    static void setInt(NodeProto.Builder node, String name, long value) {
        set(node, intAttr(name, value));
    }

    static void setString(NodeProto.Builder node, String name, String value) {
        set(node, stringAttr(name, value));
    }

    static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
    }

    static AttributeProto intsAttr(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto stringAttr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(value)).build();
    }

    static AttributeProto tensorAttr(String name, TensorProto value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.TENSOR).setT(value).build();
    }

    /** A default-domain node; {@code name} should be unique (the rewrites take it from the model's name pool). */
    static NodeProto node(String opType, String name, List<String> inputs, List<String> outputs,
            AttributeProto... attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(name)
                .addAllInput(inputs).addAllOutput(outputs);
        for (AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        return n.build();
    }

    /** How a node is named in messages: its name, or its op type and first output when unnamed. */
    static String describe(NodeProtoOrBuilder node) {
        String name = node.getName().isEmpty()
                ? "(unnamed, output '" + (node.getOutputCount() > 0 ? node.getOutput(0) : "") + "')"
                : "'" + node.getName() + "'";
        return node.getOpType() + " node " + name;
    }
}
