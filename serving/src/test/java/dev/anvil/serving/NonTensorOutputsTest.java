package dev.anvil.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.modelkit.onnx.NonTensorModels;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * Outputs that are not tensors (a ZipMap classifier's sequence of maps, a sequence of tensors) are listed in
 * metadata and answered as JSON, beside the tensors, and the request's choice of outputs holds for them too.
 */
class NonTensorOutputsTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TWO_ROWS = "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\","
            + " \"shape\": [2, 4], \"data\": [[1, 0, 0, 0], [0, 0, 3, 0]]}]%s}";

    @Test
    void metadataListsEveryOutputInTheModelsOrderWithTheMapsKind() throws Exception {
        LoadedModel model = load(NonTensorModels.classifier(false));
        try {
            Gateway.ModelMetadata metadata = Gateway.metadata("iris", List.of("1"), model);
            assertThat(metadata.outputs()).containsExactly(
                    new Gateway.TensorMetadata("label", "INT64", List.of(-1L)),
                    new Gateway.TensorMetadata("probabilities", "JSON", List.of(-1L), "seq(map(int64,tensor(float)))"));
            // the extension field is there only where it says something
            JsonNode json = JSON.valueToTree(metadata);
            assertThat(json.at("/outputs/0").has("kind")).isFalse();
            assertThat(json.at("/outputs/1/kind").asText()).isEqualTo("seq(map(int64,tensor(float)))");
        } finally {
            model.retire();
        }
    }

    @Test
    void answersTheLabelTensorAndTheProbabilityMapsAsJson() throws Exception {
        LoadedModel model = load(NonTensorModels.classifier(false));
        try {
            JsonNode answer = infer(model, String.format(TWO_ROWS, ""));
            assertThat(names(answer)).containsExactly("label", "probabilities");
            JsonNode label = answer.at("/outputs/0");
            assertThat(label.get("datatype").asText()).isEqualTo("INT64");
            assertThat(label.get("data").toString()).isEqualTo("[0,2]");
            JsonNode probabilities = answer.at("/outputs/1");
            assertThat(probabilities.get("datatype").asText()).isEqualTo("JSON");
            assertThat(probabilities.get("shape").toString()).isEqualTo("[2]");
            assertProbabilities(probabilities.get("data").get(0), new float[] {1, 0, 0, 0}, "0", "1", "2");
            assertProbabilities(probabilities.get("data").get(1), new float[] {0, 0, 3, 0}, "0", "1", "2");
        } finally {
            model.retire();
        }
    }

    @Test
    void stringClassLabelsAreTheMapsKeys() throws Exception {
        LoadedModel model = load(NonTensorModels.classifier(true));
        try {
            assertThat(Gateway.metadata("pets", List.of("1"), model).outputs().get(1).kind())
                    .isEqualTo("seq(map(string,tensor(float)))");
            JsonNode maps = infer(model, String.format(TWO_ROWS, "")).at("/outputs/1/data");
            assertProbabilities(maps.get(1), new float[] {0, 0, 3, 0}, NonTensorModels.CLASS_NAMES);
        } finally {
            model.retire();
        }
    }

    @Test
    void onlyTheOutputsAskedForAreAnswered() throws Exception {
        LoadedModel model = load(NonTensorModels.classifier(false));
        try {
            JsonNode maps = infer(model, String.format(TWO_ROWS, ", \"outputs\": [{\"name\": \"probabilities\"}]"));
            assertThat(names(maps)).containsExactly("probabilities");
            JsonNode label = infer(model, String.format(TWO_ROWS, ", \"outputs\": [{\"name\": \"label\"}]"));
            assertThat(names(label)).containsExactly("label");
        } finally {
            model.retire();
        }
    }

    @Test
    void aSequenceAnswersAsJsonEvenWhenEveryOutputIsAskedForInBinary() throws Exception {
        LoadedModel model = load(NonTensorModels.classifier(false));
        try (V2Request request = V2RequestReader.read(ENV, model, utf8(String.format(TWO_ROWS,
                ", \"outputs\": [{\"name\": \"probabilities\", \"parameters\": {\"binary_data\": true}}]")), -1)) {
            Gateway.InferResult result = Gateway.run("iris", 1, false, model, request);
            assertThat(result.binary()).isFalse();
            assertThat(JSON.readTree(result.body()).at("/outputs/0/datatype").asText()).isEqualTo("JSON");
        } finally {
            model.retire();
        }
        try (V2Request request = V2RequestReader.read(ENV, model = load(NonTensorModels.classifier(false)),
                utf8(String.format(TWO_ROWS, ", \"parameters\": {\"binary_data_output\": true}")), -1)) {
            Gateway.InferResult result = Gateway.run("iris", 1, false, model, request);
            // the label tensor goes binary (2 INT64 = 16 bytes after the header), the maps stay JSON in the header
            assertThat(result.binary()).isTrue();
            assertThat(result.body().length - result.headerLength()).isEqualTo(16);
            JsonNode header = JSON.readTree(new String(result.body(), 0, result.headerLength(), StandardCharsets.UTF_8));
            assertThat(header.at("/outputs/0/parameters/binary_data_size").asInt()).isEqualTo(16);
            assertThat(header.at("/outputs/1/data")).hasSize(2);
        } finally {
            model.retire();
        }
    }

    @Test
    void aSequenceOfTensorsAnswersEachTensorWithItsShape() throws Exception {
        LoadedModel model = load(NonTensorModels.sequenceOfTensors());
        try {
            assertThat(Gateway.metadata("rows", List.of("1"), model).outputs()).containsExactly(
                    new Gateway.TensorMetadata("rows", "JSON", List.of(-1L), "seq(tensor(float))"),
                    new Gateway.TensorMetadata("doubled", "FP32", List.of(-1L, 2L)));
            JsonNode answer = infer(model, "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [3, 2],"
                    + " \"data\": [1, 2, 3, 4, 5, 6]}]}");
            JsonNode rows = answer.at("/outputs/0");
            assertThat(rows.get("shape").toString()).isEqualTo("[3]");
            assertThat(rows.get("data").get(2).toString())
                    .isEqualTo("{\"datatype\":\"FP32\",\"shape\":[2],\"data\":[5.0,6.0]}");
            assertThat(answer.at("/outputs/1/data").toString()).isEqualTo("[2.0,4.0,6.0,8.0,10.0,12.0]");
        } finally {
            model.retire();
        }
    }

    @Test
    void anUnknownOutputIsRefusedNamingTheOutputsThatExist() throws Exception {
        LoadedModel model = load(NonTensorModels.classifier(false));
        try {
            assertThatThrownBy(() -> V2RequestReader.read(ENV, model, utf8(String.format(TWO_ROWS,
                    ", \"outputs\": [{\"name\": \"output_probability\"}]")), -1).close())
                    .isInstanceOfSatisfying(GatewayException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.field()).isEqualTo("outputs[0].name");
                    })
                    .hasMessage("unknown output 'output_probability', expected one of [label, probabilities]");
            assertThatThrownBy(() -> V2RequestReader.read(ENV, model, utf8("{\"inputs\": [{\"name\": \"features\","
                    + " \"datatype\": \"FP32\", \"shape\": [1, 3], \"data\": [1, 0, 0]}]}"), -1).close())
                    .isInstanceOfSatisfying(GatewayException.class, e -> assertThat(e.status()).isEqualTo(400))
                    .hasMessageContaining("input 'features' has shape [1, 3], the model expects [-1, 4]");
        } finally {
            model.retire();
        }
    }

    @Test
    void aModelWithAnOptionalOutputIsRefusedSayingWhy() throws Exception {
        OrtSession session = ENV.createSession(NonTensorModels.optionalOutput(), new OrtSession.SessionOptions());
        assertThatThrownBy(() -> new LoadedModel("test", session, 1))
                .isInstanceOf(OrtException.class)
                .hasMessageContaining("cannot describe one of the model's inputs or outputs (an optional or opaque value");
    }

    private static void assertProbabilities(JsonNode map, float[] row, String... keys) {
        float[] expected = NonTensorModels.probabilities(row);
        List<String> fields = new ArrayList<>();
        map.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactlyInAnyOrder(keys);
        for (int c = 0; c < keys.length; c++) {
            assertThat(map.get(keys[c]).floatValue()).isCloseTo(expected[c], Offset.offset(1e-6f));
        }
    }

    private static List<String> names(JsonNode answer) {
        List<String> names = new ArrayList<>();
        answer.get("outputs").forEach(o -> names.add(o.get("name").asText()));
        return names;
    }

    private static JsonNode infer(LoadedModel model, String body) throws Exception {
        try (V2Request request = V2RequestReader.read(ENV, model, utf8(body), -1)) {
            Gateway.InferResult result = Gateway.run("test", 1, false, model, request);
            assertThat(result.binary()).isFalse();
            return JSON.readTree(result.body());
        }
    }

    private static LoadedModel load(byte[] onnx) throws OrtException {
        return new LoadedModel("test", ENV.createSession(onnx, new OrtSession.SessionOptions()), 1);
    }

    private static ByteBuffer utf8(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }
}
