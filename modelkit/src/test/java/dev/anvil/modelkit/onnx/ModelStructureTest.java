package dev.anvil.modelkit.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.StringStringEntryProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStructureTest {
    @TempDir
    Path dir;

    @Test
    void readsWhatCnnMnistSaysAboutItself() throws Exception {
        ModelStructure structure = OnnxModel.readStructure(SharedData.cnnMnist());
        // the weights and biases of two Conv and two Gemm layers, plus the Reshape target that the
        // file keeps in a Constant node of its own
        assertThat(structure).isEqualTo(new ModelStructure(4, Map.of("", 9L), "pytorch", "torch-jit-export", 13, 21_842));
    }

    @Test
    void countsConstantNodeWeightsButNotOtherAttributeTensors() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        OnnxGraph graph = model.graph();
        NodeProto conv = graph.nodes().stream().filter(n -> n.getOpType().equals("Conv")).findFirst().orElseThrow();
        TensorProto weight = graph.initializer(conv.getInput(1)).orElseThrow();
        graph.proto().removeInitializer(graph.proto().getInitializerList().indexOf(weight));
        graph.proto().addNode(0, NodeProto.newBuilder().setOpType("Constant").addOutput(weight.getName())
                .addAttribute(tensorAttribute("value", weight.toBuilder().clearName().build())));
        // ConstantOfShape's fill value is a one-element tensor attribute, not a weight
        graph.proto().addNode(NodeProto.newBuilder().setOpType("ConstantOfShape").addInput("shape").addOutput("filled")
                .addAttribute(tensorAttribute("value", Tensors.floats("", new long[] {1}, new float[] {0f}))));
        model.setOpset("ai.onnx", 9);
        model.setOpset("com.example", 2);
        Path file = dir.resolve("constants.onnx");
        model.write(file);

        ModelStructure structure = OnnxModel.readStructure(file);
        assertThat(structure.parameterCount()).isEqualTo(21_842);
        assertThat(structure.nodeCount()).isEqualTo(15);
        assertThat(structure.opsets()).containsExactly(Map.entry("", 9L), Map.entry("com.example", 2L));
    }

    @Test
    void aTruncatedModelIsRefusedByEveryReader() throws Exception {
        byte[] bytes = Files.readAllBytes(SharedData.cnnMnist());
        Path file = Files.write(dir.resolve("truncated.onnx"), Arrays.copyOf(bytes, bytes.length / 2));
        String expected = "not an ONNX model: the file is not a well-formed protobuf, or is cut short";
        assertThatThrownBy(() -> OnnxModel.readStructure(file)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith(expected).hasMessageContaining("truncated");
        assertThatThrownBy(() -> OnnxModel.read(file)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith(expected);
    }

    @Test
    void aCorruptLengthInsideTheModelIsRefused() throws Exception {
        byte[] bytes = Files.readAllBytes(SharedData.cnnMnist());
        // the graph (field 7, length-delimited) claims more bytes than the file holds
        int graph = indexOf(bytes, (byte) 0x3a);
        bytes[graph + 1] = (byte) 0xff;
        bytes[graph + 2] = (byte) 0xff;
        bytes[graph + 3] = (byte) 0xff;
        Path file = Files.write(dir.resolve("corrupt.onnx"), bytes);
        assertThatThrownBy(() -> OnnxModel.readStructure(file)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("not an ONNX model: the file is not a well-formed protobuf");
    }

    @Test
    void aFileThatIsNotProtobufIsRefused() throws Exception {
        Path text = Files.writeString(dir.resolve("readme.onnx"), "this is a README, not a model\n");
        assertThatThrownBy(() -> OnnxModel.readStructure(text)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("not an ONNX model: the file is not a well-formed protobuf");
        Path png = Files.write(dir.resolve("image.onnx"), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        assertThatThrownBy(() -> OnnxModel.readStructure(png)).isInstanceOf(InvalidModelException.class)
                .hasMessageStartingWith("not an ONNX model");
    }

    @Test
    void aProtobufThatIsNotAModelNamesWhatIsMissing() throws Exception {
        // a metadata entry parses as a ModelProto (its key lands as an unknown field) but is no model
        Path file = Files.write(dir.resolve("entry.pb"),
                StringStringEntryProto.newBuilder().setKey("author").setValue("someone").build().toByteArray());
        assertThatThrownBy(() -> OnnxModel.readStructure(file)).isInstanceOf(InvalidModelException.class)
                .hasMessage("not an ONNX model: the protobuf has no ir_version, no opset_import, no graph"
                        + " (an ONNX ModelProto always has an ir_version, an opset_import and a graph)");
    }

    @Test
    void anEmptyFileIsRefused() throws Exception {
        Path file = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        assertThatThrownBy(() -> OnnxModel.readStructure(file)).isInstanceOf(InvalidModelException.class)
                .hasMessage("not an ONNX model: the file is empty");
    }

    private static AttributeProto tensorAttribute(String name, TensorProto tensor) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(tensor).build();
    }

    private static int indexOf(byte[] bytes, byte tag) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == tag) {
                return i;
            }
        }
        throw new AssertionError("no byte " + tag + " in the model");
    }
}
