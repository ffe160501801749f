package dev.anvil.modelkit.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.FunctionProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.StringStringEntryProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
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
        assertThat(structure).isEqualTo(new ModelStructure(4, Map.of("", 9L), "pytorch", "torch-jit-export", 13, 21_842,
                List.of()));
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
    void countsTheWeightsOfBothIfBranchesAndOfNestedLoopBodies() throws Exception {
        // then: a 3x4 initializer and a Loop whose body holds a 5-element Constant; else: a 2x2
        // initializer. Main graph: a 1-element condition. 1 + 12 + 5 + 4 = 22.
        GraphProto loopBody = GraphProto.newBuilder().setName("body")
                .addNode(NodeProto.newBuilder().setOpType("Constant").addOutput("k")
                        .addAttribute(tensorAttribute("value", Tensors.floats("", new long[] {5}, new float[5]))))
                .build();
        GraphProto thenBranch = GraphProto.newBuilder().setName("then")
                .addInitializer(Tensors.floats("w_then", new long[] {3, 4}, new float[12]))
                .addNode(NodeProto.newBuilder().setOpType("Loop").setName("loop")
                        .addAttribute(graphAttribute("body", loopBody)))
                .build();
        GraphProto elseBranch = GraphProto.newBuilder().setName("else")
                .addInitializer(Tensors.floats("w_else", new long[] {2, 2}, new float[4]))
                .build();
        GraphProto main = GraphProto.newBuilder().setName("main")
                .addInitializer(Tensors.floats("cond", new long[] {}, new float[1]))
                .addNode(NodeProto.newBuilder().setOpType("If").setName("if").addInput("cond").addOutput("y")
                        .addAttribute(graphAttribute("then_branch", thenBranch))
                        .addAttribute(graphAttribute("else_branch", elseBranch)))
                .build();

        ModelStructure structure = ModelStructure.of(model(main));

        assertThat(structure.parameterCount()).isEqualTo(22);
        assertThat(structure.nodeCount()).isEqualTo(1);
        assertThat(structure.warnings()).isEmpty();
    }

    @Test
    void warnsOfADomainThatNodesUseButTheModelDoesNotImport() throws Exception {
        GraphProto branch = GraphProto.newBuilder().setName("branch")
                .addNode(NodeProto.newBuilder().setOpType("Deep").setName("deep").setDomain("com.nested"))
                .build();
        GraphProto main = GraphProto.newBuilder().setName("main")
                .addNode(NodeProto.newBuilder().setOpType("MyOp").setName("n1").setDomain("com.example"))
                .addNode(NodeProto.newBuilder().setOpType("MyOp").setName("n2").setDomain("com.example"))
                .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu").setDomain("ai.onnx"))
                .addNode(NodeProto.newBuilder().setOpType("Known").setName("known").setDomain("com.imported"))
                .addNode(NodeProto.newBuilder().setOpType("If").setName("if")
                        .addAttribute(graphAttribute("then_branch", branch)))
                .addNode(NodeProto.newBuilder().setOpType("Fn").setName("call").setDomain("com.imported"))
                .build();
        FunctionProto function = FunctionProto.newBuilder().setName("Fn").setDomain("com.imported")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.local").setVersion(1))
                .addNode(NodeProto.newBuilder().setOpType("Local").setName("local").setDomain("com.local"))
                .addNode(NodeProto.newBuilder().setOpType("Stray").setName("stray").setDomain("com.stray"))
                .build();
        ModelProto model = model(main).toBuilder()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.imported").setVersion(1))
                .addFunctions(function)
                .build();

        ModelStructure structure = ModelStructure.of(model);

        assertThat(structure.warnings()).containsExactly(
                "node 'n1' (MyOp) and 1 more node(s) use domain 'com.example', which the model does not import:"
                        + " add an opset_import for it (domain 'com.example' with the operator set version the"
                        + " nodes were written for)",
                "node 'deep' (Deep) in sub-graph 'then_branch' of node 'if' uses domain 'com.nested', which the"
                        + " model does not import: add an opset_import for it (domain 'com.nested' with the operator"
                        + " set version the nodes were written for)",
                "node 'stray' (Stray) in function 'Fn' uses domain 'com.stray', which the model does not import:"
                        + " add an opset_import for it (domain 'com.stray' with the operator set version the nodes"
                        + " were written for)");
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

    private static AttributeProto graphAttribute(String name, GraphProto graph) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(graph).build();
    }

    /** A model importing only the default domain, opset 13. */
    private static ModelProto model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test").setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .build();
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
