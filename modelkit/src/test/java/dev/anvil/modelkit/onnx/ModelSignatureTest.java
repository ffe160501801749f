package dev.anvil.modelkit.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSignatureTest {
    @TempDir
    Path dir;

    @Test
    void readsCnnMnistsInputsAndOutputsWithoutItsInitializers() throws Exception {
        ModelSignature signature = OnnxModel.readSignature(SharedData.cnnMnist());
        assertThat(signature.inputs()).extracting(ModelSignature.Tensor::name).containsExactly("input_image");
        assertThat(signature.inputs().get(0).elementType()).isEqualTo("float32");
        assertThat(signature.inputs().get(0).shape()).hasSize(4).endsWith("1", "28", "28");
        assertThat(signature.outputs()).hasSize(1);
        assertThat(signature.toString()).contains("input_image: float32[").contains("→ outputs [");
    }

    @Test
    void aSymbolicDimensionMatchesWhateverItIsCalledAndAChangedShapeDoesNot() throws Exception {
        ModelSignature batch = ModelSignature.of(withFirstDim(SharedData.cnnMnist(), "batch").proto());
        ModelSignature n = ModelSignature.of(withFirstDim(SharedData.cnnMnist(), "N").proto());
        assertThat(n).isEqualTo(batch);
        assertThat(n.inputs().get(0).shape()).isEqualTo(List.of("?", "1", "28", "28"));

        OnnxModel wider = withFirstDim(SharedData.cnnMnist(), "N");
        wider.graph().proto().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder()
                .getDimBuilder(2).clearDimParam().setDimValue(32);
        Path file = dir.resolve("wider.onnx");
        Files.write(file, wider.toBytes());
        ModelSignature read = OnnxModel.readSignature(file);
        assertThat(read).isNotEqualTo(n);
        assertThat(read.inputs().get(0).shape()).isEqualTo(List.of("?", "1", "32", "28"));
        assertThat(read.inputs().get(0).toString()).isEqualTo("input_image: float32[?,1,32,28]");
    }

    @Test
    void anOutputThatIsNotATensorReadsAsItsOnnxType() throws Exception {
        ModelSignature signature = ModelSignature.of(OnnxModel.parse(NonTensorModels.classifier(false)).proto());
        assertThat(signature.outputs()).extracting(ModelSignature.Tensor::toString)
                .containsExactly("label: int64[?]", "probabilities: seq(map(int64,tensor(float)))");
    }

    private static OnnxModel withFirstDim(Path model, String name) throws Exception {
        OnnxModel m = OnnxModel.read(model);
        TensorShapeProto.Builder shape = m.graph().proto().getInputBuilder(0).getTypeBuilder()
                .getTensorTypeBuilder().getShapeBuilder();
        shape.getDimBuilder(0).clearDimValue().setDimParam(name);
        return m;
    }
}
