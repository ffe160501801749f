package dev.anvil.modelkit.security;

import static dev.anvil.modelkit.security.ExternalDataModels.externalTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.onnx.ExternalData;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.FunctionProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.SparseTensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TrainingInfoProto;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Every place the format can hold a tensor is scanned, so no external reference slips past in a corner. */
class ExternalDataHidingPlacesTest {
    private static final String REFUSAL = "external data is not supported: embed the weights (tensor 'W' refers to"
            + " file '../../etc/hostname')";

    private static ModelProto clean() {
        return ExternalDataModels.readsFile("x").toBuilder()
                .setGraph(ExternalDataModels.readsFile("x").getGraph().toBuilder().clearInitializer()).build();
    }

    private static TensorProto hidden() {
        return externalTensor("W", "../../etc/hostname");
    }

    private static AttributeProto.Builder attribute(String name) {
        return AttributeProto.newBuilder().setName(name);
    }

    private static NodeProto nodeWith(AttributeProto.Builder attribute) {
        return NodeProto.newBuilder().setOpType("Constant").addOutput("c").addAttribute(attribute).build();
    }

    private static GraphProto graphWithInitializer() {
        return GraphProto.newBuilder().setName("inner").addInitializer(hidden()).build();
    }

    private static void assertRefused(UnaryOperator<ModelProto.Builder> hide) {
        ModelProto model = hide.apply(clean().toBuilder()).build();
        assertThatThrownBy(() -> ExternalData.refuse(model)).isInstanceOf(InvalidModelException.class)
                .hasMessage(REFUSAL);
        assertThatThrownBy(() -> OnnxModel.parse(model.toByteArray())).hasMessage(REFUSAL);
    }

    @Test
    void aCleanModelPasses() {
        assertThat(ExternalData.find(clean())).isEmpty();
    }

    @Test
    void graphInitializers() {
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addInitializer(hidden())));
    }

    @Test
    void sparseInitializersValuesAndIndices() {
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addSparseInitializer(
                SparseTensorProto.newBuilder().setValues(hidden()))));
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addSparseInitializer(
                SparseTensorProto.newBuilder().setIndices(hidden()))));
    }

    @Test
    void constantValuesAndEveryTensorAttribute() {
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addNode(nodeWith(attribute("value").setT(hidden())))));
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addNode(nodeWith(attribute("ts").addTensors(hidden())))));
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addNode(nodeWith(
                attribute("sparse_value").setSparseTensor(SparseTensorProto.newBuilder().setValues(hidden()))))));
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addNode(nodeWith(
                attribute("sts").addSparseTensors(SparseTensorProto.newBuilder().setIndices(hidden()))))));
    }

    @Test
    void subGraphsOfIfLoopAndScanAtAnyDepth() {
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addNode(NodeProto.newBuilder().setOpType("If")
                .addAttribute(attribute("then_branch").setG(graphWithInitializer())))));
        GraphProto deeper = GraphProto.newBuilder().setName("loop_body").addNode(NodeProto.newBuilder().setOpType("Loop")
                .addAttribute(attribute("body").setG(GraphProto.newBuilder().addNode(
                        nodeWith(attribute("value").setT(hidden())))))).build();
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addNode(NodeProto.newBuilder().setOpType("Scan")
                .addAttribute(attribute("body").setG(deeper)))));
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addNode(NodeProto.newBuilder().setOpType("Custom")
                .addAttribute(attribute("graphs").addGraphs(graphWithInitializer())))));
    }

    @Test
    void modelLocalFunctionsAndTrainingGraphs() {
        assertRefused(m -> m.addFunctions(FunctionProto.newBuilder().setName("f").setDomain("local")
                .addNode(nodeWith(attribute("value").setT(hidden())))));
        assertRefused(m -> m.addTrainingInfo(TrainingInfoProto.newBuilder().setAlgorithm(graphWithInitializer())));
        assertRefused(m -> m.addTrainingInfo(TrainingInfoProto.newBuilder().setInitialization(graphWithInitializer())));
    }

    @Test
    void externalEntriesWithoutTheMarkAreRefusedToo() {
        TensorProto unmarked = hidden().toBuilder().setDataLocation(TensorProto.DataLocation.DEFAULT).build();
        assertRefused(m -> m.setGraph(m.getGraph().toBuilder().addInitializer(unmarked)));
    }
}
