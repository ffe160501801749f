package dev.anvil.modelkit.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Non-tensor types read as ONNX writes them, from the file and from ONNX Runtime alike. */
class ValueTypesTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    @Test
    void aZipMapClassifiersOutputsReadTheSameFromTheFileAndFromOnnxRuntime() throws Exception {
        Map<String, String> expected = Map.of("label", "tensor(int64)",
                "probabilities", "seq(map(int64,tensor(float)))");
        assertThat(fromFile(NonTensorModels.classifier(false))).containsExactlyEntriesOf(ordered(expected));
        assertThat(fromRuntime(NonTensorModels.classifier(false))).containsExactlyEntriesOf(ordered(expected));
        assertThat(fromRuntime(NonTensorModels.classifier(true)))
                .containsEntry("probabilities", "seq(map(string,tensor(float)))");
    }

    @Test
    void sequencesOfTensorsReadAsSequences() throws Exception {
        assertThat(fromFile(NonTensorModels.sequenceOfTensors())).containsEntry("rows", "seq(tensor(float))")
                .containsEntry("doubled", "tensor(float)");
        assertThat(fromRuntime(NonTensorModels.sequenceOfTensors())).containsEntry("rows", "seq(tensor(float))");
    }

    @Test
    void theFilesRarerTypesReadToo() {
        TypeProto floats = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1)).build();
        assertThat(ValueTypes.describe(TypeProto.newBuilder().setOptionalType(
                TypeProto.Optional.newBuilder().setElemType(floats)).build())).isEqualTo("optional(tensor(float))");
        assertThat(ValueTypes.describe(TypeProto.newBuilder().setSparseTensorType(
                TypeProto.SparseTensor.newBuilder().setElemType(7)).build())).isEqualTo("sparse_tensor(int64)");
        assertThat(ValueTypes.describe(TypeProto.newBuilder().setMapType(TypeProto.Map.newBuilder().setKeyType(8)
                .setValueType(floats)).build())).isEqualTo("map(string,tensor(float))");
        assertThat(ValueTypes.describe(TypeProto.getDefaultInstance())).isEqualTo("unknown");
        assertThat(ValueTypes.element(16)).isEqualTo("bfloat16");
    }

    private static Map<String, String> fromFile(byte[] model) throws Exception {
        Map<String, String> types = new LinkedHashMap<>();
        for (ValueInfoProto output : ModelProto.parseFrom(model).getGraph().getOutputList()) {
            types.put(output.getName(), ValueTypes.describe(output.getType()));
        }
        return types;
    }

    private static Map<String, String> fromRuntime(byte[] model) throws Exception {
        Map<String, String> types = new LinkedHashMap<>();
        try (OrtSession session = ENV.createSession(model, new OrtSession.SessionOptions())) {
            for (NodeInfo output : session.getOutputInfo().values()) {
                types.put(output.getName(), ValueTypes.describe(output.getInfo()));
            }
        }
        return types;
    }

    private static Map<String, String> ordered(Map<String, String> types) {
        Map<String, String> ordered = new LinkedHashMap<>();
        ordered.put("label", types.get("label"));
        ordered.put("probabilities", types.get("probabilities"));
        return ordered;
    }
}
