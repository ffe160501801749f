package dev.anvil.modelkit.onnx;

import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProtoOrBuilder;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a client of a model sees: its graph inputs (initializers that older exporters also list as
 * inputs are left out, a caller never feeds them) and outputs, each a name, an element type and a
 * shape. A symbolic or unknown dimension reads {@code ?}, whatever it is called, so two exports of one
 * model with differently named batch dimensions have one signature. See {@link OnnxModel#readSignature}.
 */
public record ModelSignature(List<Tensor> inputs, List<Tensor> outputs) {

    /** One input or output: {@code name: float32[?,1,28,28]}. */
    public record Tensor(String name, String elementType, List<String> shape) {
        @Override
        public String toString() {
            return name + ": " + elementType + (shape == null ? "" : "[" + String.join(",", shape) + "]");
        }
    }

    public static ModelSignature of(ModelProtoOrBuilder model) {
        GraphProtoOrBuilder graph = model.getGraph();
        Set<String> initializers = new HashSet<>();
        for (TensorProto initializer : graph.getInitializerList()) {
            initializers.add(initializer.getName());
        }
        List<Tensor> inputs = new ArrayList<>();
        for (ValueInfoProto input : graph.getInputList()) {
            if (!initializers.contains(input.getName())) {
                inputs.add(tensor(input));
            }
        }
        List<Tensor> outputs = new ArrayList<>();
        for (ValueInfoProto output : graph.getOutputList()) {
            outputs.add(tensor(output));
        }
        return new ModelSignature(List.copyOf(inputs), List.copyOf(outputs));
    }

    @Override
    public String toString() {
        return "inputs " + inputs + " → outputs " + outputs;
    }

    private static Tensor tensor(ValueInfoProto value) {
        TypeProto type = value.getType();
        if (!type.hasTensorType()) {
            // a sequence, map or optional has no one shape: its type says it all, seq(map(int64,tensor(float)))
            return new Tensor(value.getName(), ValueTypes.describe(type), null);
        }
        TypeProto.Tensor tensor = type.getTensorType();
        TensorProto.DataType element = TensorProto.DataType.forNumber(tensor.getElemType());
        String elementType = element == null ? "type" + tensor.getElemType() : elementName(element);
        if (!tensor.hasShape()) {
            return new Tensor(value.getName(), elementType, null);
        }
        List<String> shape = new ArrayList<>();
        for (TensorShapeProto.Dimension dim : tensor.getShape().getDimList()) {
            shape.add(dim.hasDimValue() ? Long.toString(dim.getDimValue()) : "?");
        }
        return new Tensor(value.getName(), elementType, List.copyOf(shape));
    }

    /** ONNX's names as NumPy spells them (FLOAT → float32), the way the inspect report and the gateway say them. */
    private static String elementName(TensorProto.DataType type) {
        return switch (type) {
            case FLOAT -> "float32";
            case DOUBLE -> "float64";
            case FLOAT16 -> "float16";
            case STRING -> "string";
            case BOOL -> "bool";
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }
}
