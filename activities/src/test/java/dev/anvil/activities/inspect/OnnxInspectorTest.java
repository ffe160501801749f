package dev.anvil.activities.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.ModelStructure;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.workflows.inspect.ModelReport;
import dev.anvil.workflows.inspect.TensorSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxInspectorTest {
    private final OnnxInspector inspector = new OnnxInspector(OrtEnvironment.getEnvironment());

    @TempDir
    Path dir;

    @Test
    void reportsTheRealDigitClassifier() throws Exception {
        Path model = SharedData.cnnMnist();
        ModelReport report = inspector.inspect(model, "ab".repeat(32));

        assertThat(report.sizeBytes()).isEqualTo(Files.size(model));
        assertThat(report.opsets()).containsEntry("", 9L);
        assertThat(report.irVersion()).isGreaterThanOrEqualTo(3);
        assertThat(report.inputs()).singleElement().satisfies(input -> {
            assertThat(input.name()).isEqualTo("input_image");
            assertThat(input.elementType()).isEqualTo("FLOAT");
            assertThat(input.shape()).hasSize(4).endsWith("1", "28", "28");
        });
        assertThat(report.outputs()).extracting(TensorSpec::name).containsExactly("output_probs");
        assertThat(report.outputs().get(0).shape()).hasSize(2).last().isEqualTo("10");
        // Conv x2 + Gemm x2: weights and biases of four layers, stored as float32 initializers. The
        // file is mostly those weights, so 4 bytes a parameter must come close to the file size.
        assertThat(report.nodeCount()).isGreaterThanOrEqualTo(4);
        assertThat(report.parameterCount() * 4).isBetween(report.sizeBytes() / 2, report.sizeBytes());
    }

    @Test
    void randomBytesAreNotAModel() throws Exception {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        Path file = Files.write(dir.resolve("noise.onnx"), noise);
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
    }

    @Test
    void aTextFileIsNotAModel() throws Exception {
        Path file = Files.writeString(dir.resolve("readme.onnx"), "this is a README, not a model\n");
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
    }

    @Test
    void aTruncatedModelIsRejected() throws Exception {
        byte[] bytes = Files.readAllBytes(SharedData.cnnMnist());
        Path file = Files.write(dir.resolve("truncated.onnx"), Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
    }

    @Test
    void anEmptyFileIsRejected() throws Exception {
        Path file = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessage("not an ONNX model: the file is empty");
    }

    @Test
    void opsetsAreListedPerDomain() throws Exception {
        ModelStructure structure = OnnxModel.readStructure(SharedData.cnnMnist());
        assertThat(structure.opsets()).isNotEmpty();
        assertThat(List.copyOf(structure.opsets().keySet())).contains("");
    }
}
