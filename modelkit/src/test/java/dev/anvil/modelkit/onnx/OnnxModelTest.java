package dev.anvil.modelkit.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
    @TempDir
    Path dir;

    @Test
    void readsCnnMnistAndKnowsItsGraph() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        assertThat(model.opset("")).contains(9L);
        assertThat(model.opset("ai.onnx")).contains(9L);
        OnnxGraph graph = model.graph();
        List<NodeProto> order = graph.topologicalOrder();
        assertThat(order).hasSize(graph.nodes().size());
        NodeProto firstConv = graph.nodes().stream().filter(n -> n.getOpType().equals("Conv")).findFirst().orElseThrow();
        String weight = firstConv.getInput(1);
        assertThat(graph.initializer(weight)).isPresent();
        assertThat(Tensors.toFloats(graph.initializer(weight).get())).hasSize(
                (int) Tensors.elementCount(Tensors.dims(graph.initializer(weight).get())));
        assertThat(graph.producer(firstConv.getOutput(0))).contains(firstConv);
        assertThat(graph.consumers(firstConv.getOutput(0))).isNotEmpty();
        assertThat(graph.producer("input_image")).isEmpty();
        assertThat(graph.isGraphInput("input_image")).isTrue();
    }

    @Test
    void uniqueNamesNeverCollide() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        String existing = model.graph().nodes().get(0).getOutput(0);
        String fresh = model.graph().uniqueName(existing);
        assertThat(fresh).isNotEqualTo(existing);
        assertThat(model.graph().uniqueName(existing)).isNotEqualTo(fresh);
    }

    @Test
    void liftsConstantNodesIntoInitializers() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        OnnxGraph graph = model.graph();
        // move the first Conv's weight into a Constant node, as some exporters write weights
        NodeProto conv = graph.nodes().stream().filter(n -> n.getOpType().equals("Conv")).findFirst().orElseThrow();
        TensorProto weight = graph.initializer(conv.getInput(1)).orElseThrow();
        var initializers = graph.proto().getInitializerList();
        graph.proto().removeInitializer(initializers.indexOf(weight));
        graph.proto().addNode(0, NodeProto.newBuilder().setOpType("Constant").addOutput(weight.getName())
                .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(weight.toBuilder().clearName())));
        assertThat(graph.initializer(weight.getName())).isEmpty();

        long constants = graph.nodes().stream().filter(n -> n.getOpType().equals("Constant")).count();
        assertThat(constants).as("cnn_mnist has a Constant of its own besides ours").isEqualTo(2);
        assertThat(graph.liftConstants()).isEqualTo(2);
        assertThat(Tensors.toFloats(graph.initializer(weight.getName()).orElseThrow()))
                .containsExactly(Tensors.toFloats(weight));
        assertThat(graph.nodes()).noneMatch(n -> n.getOpType().equals("Constant"));
    }

    @Test
    void findsCyclesAndDanglingInputs() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        OnnxGraph graph = model.graph();
        NodeProto.Builder first = graph.proto().getNodeBuilder(0);
        String last = graph.nodes().get(graph.nodes().size() - 1).getOutput(0);
        first.setInput(0, last);
        assertThatThrownBy(graph::topologicalOrder).isInstanceOf(InvalidModelException.class).hasMessageContaining("cycle");
        first.setInput(0, "nowhere");
        assertThatThrownBy(graph::topologicalOrder).isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("'nowhere'");
    }

    @Test
    void sortRestoresOrderAfterAppending() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        OnnxGraph graph = model.graph();
        graph.nameNodes();
        assertThat(graph.nodes()).allMatch(n -> !n.getName().isEmpty());
        NodeProto head = graph.consumers("input_image").get(0);
        String fresh = graph.uniqueName("scaled_input");
        String scale = graph.uniqueName("one");
        graph.addInitializer(Tensors.floats(scale, new long[0], new float[] {1f}));
        graph.renameInput("input_image", fresh, n -> true);
        graph.addNode(NodeProto.newBuilder().setOpType("Mul").setName(graph.uniqueName("scale"))
                .addInput("input_image").addInput(scale).addOutput(fresh).build());
        graph.sortTopologically();
        List<String> names = graph.nodes().stream().map(NodeProto::getName).toList();
        int mul = names.indexOf(graph.producer(fresh).orElseThrow().getName());
        assertThat(mul).isLessThan(names.indexOf(head.getName()));
        Path out = dir.resolve("edited.onnx");
        model.write(out);
        try (OrtEnvironment env = OrtEnvironment.getEnvironment();
                OrtSession session = env.createSession(out.toString(), new OrtSession.SessionOptions())) {
            assertThat(session.getOutputNames()).isNotEmpty();
        }
    }

    @Test
    void refusesWhatIsNotAModel() {
        assertThatThrownBy(() -> OnnxModel.parse(new byte[0])).hasMessageContaining("empty");
        assertThatThrownBy(() -> OnnxModel.parse("hello, not a model".getBytes()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("not an ONNX model");
    }
}
