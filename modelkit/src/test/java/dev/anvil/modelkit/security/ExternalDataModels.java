package dev.anvil.modelkit.security;

import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.StringStringEntryProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Models that try to read server files: a float initializer whose data is "external", in a file the
 * model names. Y = X + W, so with X = 0 the output is the file's bytes.
 */
public final class ExternalDataModels {
    /** 32 bytes: 8 float32 values. */
    public static final String SECRET = "anvil-secret-token-0123456789abc";
    public static final int FLOATS = SECRET.length() / 4;

    private ExternalDataModels() {}

    /** A tensor that keeps its data in {@code location} (relative paths are resolved from the model's folder). */
    public static TensorProto externalTensor(String name, String location) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(FLOATS)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", location))
                .addExternalData(entry("offset", "0"))
                .addExternalData(entry("length", Integer.toString(SECRET.length()))).build();
    }

    /** Y[1, 8] = X[1, 8] + W, W read from {@code location}. */
    public static ModelProto readsFile(String location) {
        GraphProto graph = GraphProto.newBuilder().setName("exfiltrate")
                .addInput(floats("X"))
                .addInitializer(externalTensor("W", location))
                .addNode(NodeProto.newBuilder().setOpType("Add").addInput("X").addInput("W").addOutput("Y"))
                .addOutput(floats("Y")).build();
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("attacker")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(graph).build();
    }

    /** Writes the secret to {@code secretName} and a model reading it to {@code modelName}, both in {@code dir}. */
    public static Path plant(Path dir, String modelName, String secretName) throws Exception {
        Files.writeString(dir.resolve(secretName), SECRET, StandardCharsets.US_ASCII);
        Path model = dir.resolve(modelName);
        Files.write(model, readsFile(secretName).toByteArray());
        return model;
    }

    /** True when any 4-byte-aligned run of the secret appears in the bytes (raw or as little-endian floats). */
    public static boolean leaks(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        for (int i = 0; i + 8 <= SECRET.length(); i += 4) {
            if (text.contains(SECRET.substring(i, i + 8))) {
                return true;
            }
        }
        return false;
    }

    private static ValueInfoProto floats(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(
                        TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(FLOATS))))).build();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}
