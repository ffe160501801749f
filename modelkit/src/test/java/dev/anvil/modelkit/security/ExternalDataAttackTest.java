package dev.anvil.modelkit.security;

import static dev.anvil.modelkit.security.ExternalDataModels.FLOATS;
import static dev.anvil.modelkit.security.ExternalDataModels.leaks;
import static dev.anvil.modelkit.security.ExternalDataModels.plant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.convert.ConversionOptions;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.convert.OptimizationLevel;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.validate.ModelEvaluator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model whose weight "lives" in a file beside it, where the server wrote a secret: every way the
 * toolkit opens a model refuses it, naming the tensor and the file, and no byte of the secret comes out.
 */
class ExternalDataAttackTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static final String REFUSAL = "external data is not supported: embed the weights (tensor 'W' refers to file"
            + " 'secret.txt')";

    @TempDir
    Path dir;
    Path model;

    @BeforeEach
    void plantTheModelBesideASecret() throws Exception {
        model = plant(dir, "model.onnx", "secret.txt");
    }

    @Test
    void onnxRuntimeOnItsOwnHandsTheSecretOut() throws Exception {
        // what every path below would do without the check: the output is the file's bytes
        try (OrtSession session = ENV.createSession(model.toString(), new OrtSession.SessionOptions());
                OnnxTensor zeros = OnnxTensor.createTensor(ENV, new float[1][FLOATS]);
                OrtSession.Result result = session.run(Map.of("X", zeros))) {
            float[] y = ((float[][]) result.get(0).getValue())[0];
            ByteBuffer bytes = ByteBuffer.allocate(y.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(y);
            assertThat(leaks(bytes.array())).isTrue();
        }
    }

    @Test
    void readingTheModelRefusesIt() {
        assertThatThrownBy(() -> OnnxModel.read(model)).isInstanceOf(InvalidModelException.class).hasMessage(REFUSAL);
        assertThatThrownBy(() -> OnnxModel.readStructure(model)).isInstanceOf(InvalidModelException.class)
                .hasMessage(REFUSAL);
        assertThatThrownBy(() -> OnnxModel.parse(Files.readAllBytes(model))).isInstanceOf(InvalidModelException.class)
                .hasMessage(REFUSAL);
    }

    @Test
    void noSessionIsOpenedOnIt() throws Exception {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            assertThatThrownBy(() -> OrtSessions.open(ENV, model, options)).isInstanceOf(InvalidModelException.class)
                    .hasMessage(REFUSAL);
            assertThatThrownBy(() -> OrtSessions.open(ENV, ExternalDataModels.readsFile("secret.txt"), options))
                    .isInstanceOf(InvalidModelException.class).hasMessage(REFUSAL);
        }
    }

    @Test
    void convertingRefusesItAndWritesNothing() throws Exception {
        Path out = dir.resolve("out").resolve("converted.onnx");
        Files.createDirectories(out.getParent());
        assertThatThrownBy(() -> new ModelConverter(ENV).convert(model, out,
                ConversionOptions.of(null, OptimizationLevel.BASIC, false)))
                .isInstanceOf(InvalidModelException.class).hasMessage(REFUSAL);
        assertThat(leaksAnywhere(dir.resolve("out"))).isFalse();
    }

    @Test
    void evaluatingAndComparingRefuseIt() {
        Path dataset = dir.resolve("never-read.npz");
        assertThatThrownBy(() -> new ModelEvaluator(ENV).evaluate(model, dataset,
                new ModelEvaluator.Options(1, 1, 1, 1, 0)))
                .isInstanceOf(InvalidModelException.class).hasMessage(REFUSAL);
        assertThatThrownBy(() -> new ModelComparator(ENV).compare(model, model, dataset,
                ModelComparator.Pooling.NONE, 1, 1, (done, total) -> { }))
                .isInstanceOf(InvalidModelException.class).hasMessage(REFUSAL);
    }

    private static boolean leaksAnywhere(Path folder) throws Exception {
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (leaks(Files.readAllBytes(f))) {
                    return true;
                }
            }
        }
        return false;
    }
}
