package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.NonTensorModels;
import dev.anvil.modelkit.onnx.SignatureModels;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The inference gateway over the real cnn_mnist model, on the local stack. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class GatewayTest {

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void servesTheModelThroughTheOpenInferenceProtocol() throws Exception {
        String sha = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/mnist").then().statusCode(201)
                .body("stable.version", equalTo(1)).body("stable.artifact", equalTo(sha));

        given().get("/v2/models/mnist").then().statusCode(200)
                .body("name", equalTo("mnist"))
                .body("platform", equalTo("onnxruntime_onnx"))
                .body("versions", equalTo(List.of("1")))
                .body("inputs[0].name", equalTo("input_image"))
                .body("inputs[0].datatype", equalTo("FP32"))
                .body("inputs[0].shape", equalTo(List.of(-1, 1, 28, 28)))
                .body("outputs[0].name", equalTo("output_probs"));
        given().get("/v2/models/mnist/ready").then().statusCode(200).body("ready", equalTo(true));

        float[] pixels = digitLikePixels(2);
        JsonPath answer = given().contentType("application/json").body(request(pixels, 2, true))
                .when().post("/v2/models/mnist/infer")
                .then().statusCode(200).header("X-Anvil-Model-Version", "1")
                .body("model_name", equalTo("mnist")).body("model_version", equalTo("1"))
                .body("id", equalTo("req-1"))
                .body("outputs[0].name", equalTo("output_probs"))
                .body("outputs[0].datatype", equalTo("FP32"))
                .body("outputs[0].shape", equalTo(List.of(2, 10)))
                .extract().jsonPath();
        List<Float> served = answer.getList("outputs[0].data", Float.class);
        float[] expected = runInProcess(pixels, 2);
        assertThat(served).hasSize(20);
        for (int i = 0; i < expected.length; i++) {
            assertThat(served.get(i)).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6f));
        }
        // the same tensor with data flat instead of nested gives the same answer
        given().contentType("application/json").body(request(pixels, 2, false))
                .when().post("/v2/models/mnist/versions/1/infer")
                .then().statusCode(200).body("outputs[0].data", equalTo(answer.getList("outputs[0].data")));
    }

    @Test
    void badRequestsAreNamedAndTheGatewayKeepsServing() throws Exception {
        String sha = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/strict").then().statusCode(oneOf(200, 201));
        float[] one = digitLikePixels(1);

        given().contentType("application/json").body(request(one, 1, true))
                .when().post("/v2/models/nope/infer")
                .then().statusCode(404).contentType("application/problem+json")
                .body("detail", containsString("no model named 'nope' is served"));
        given().contentType("application/json").body(request(one, 1, true))
                .when().post("/v2/models/strict/versions/7/infer")
                .then().statusCode(404).body("detail", containsString("does not serve version 7; served versions: [1]"));
        given().contentType("application/json").body(request(one, 1, true))
                .when().post("/v2/models/strict/versions/seven/infer")
                .then().statusCode(400).body("errors[0].field", equalTo("version"));
        given().contentType("application/json").body(input("image", "FP32", List.of(1, 1, 28, 28), zeros(784)))
                .when().post("/v2/models/strict/infer")
                .then().statusCode(400).body("errors[0].field", equalTo("inputs[0].name"))
                .body("detail", equalTo("unknown input 'image', expected one of [input_image]"));
        given().contentType("application/json").body(input("input_image", "INT64", List.of(1, 1, 28, 28), zeros(784)))
                .when().post("/v2/models/strict/infer")
                .then().statusCode(400).body("errors[0].field", equalTo("inputs[0].datatype"))
                .body("detail", equalTo("input 'input_image' has datatype INT64, the model expects FP32"));
        given().contentType("application/json").body(input("input_image", "FP32", List.of(1, 28, 28), zeros(784)))
                .when().post("/v2/models/strict/infer")
                .then().statusCode(400).body("errors[0].field", equalTo("inputs[0].shape"))
                .body("detail", containsString("has shape [1, 28, 28], the model expects [-1, 1, 28, 28]"));
        given().contentType("application/json").body(input("input_image", "FP32", List.of(1, 1, 28, 28), zeros(780)))
                .when().post("/v2/models/strict/infer")
                .then().statusCode(400).body("detail", containsString("has 780 elements, its shape [1, 1, 28, 28] needs 784"));
        List<Object> withText = new ArrayList<>(zeros(783));
        withText.add("white");
        given().contentType("application/json").body(input("input_image", "FP32", List.of(1, 1, 28, 28), withText))
                .when().post("/v2/models/strict/infer")
                .then().statusCode(400).body("detail", containsString("element 783 is \"white\", expected a number"));
        given().contentType("application/json").body("{\"inputs\": [")
                .when().post("/v2/models/strict/infer")
                .then().statusCode(400).body("detail", containsString("not valid JSON"));
        given().contentType("application/json").body("{}")
                .when().post("/v2/models/strict/infer")
                .then().statusCode(400).body("errors[0].field", equalTo("inputs"));
        given().contentType("application/json").body(new byte[1_048_577])
                .when().post("/v2/models/strict/infer")
                .then().statusCode(413).body("detail", containsString("at most 1048576"));
        given().get("/v2/models/nope").then().statusCode(404);
        given().get("/v2/models/nope/ready").then().statusCode(404);

        // none of that took the gateway down, and none of it counted as a model error
        given().contentType("application/json").body(request(one, 1, true))
                .when().post("/v2/models/strict/infer").then().statusCode(200);
        given().get("/api/endpoints/strict/metrics").then().statusCode(200)
                .body("[0].requests", equalTo(1)).body("[0].errors", equalTo(0)).body("[0].role", equalTo("stable"));
    }

    @Test
    void metadataListsInputsAndOutputsInTheModelsOrder() {
        String sha = InspectModelResourceTest.upload(SignatureModels.unsortedNames());
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/unsorted").then().statusCode(oneOf(200, 201));
        given().get("/v2/models/unsorted").then().statusCode(200)
                .body("inputs.name", equalTo(List.of("zeta", "alpha")))
                .body("outputs.name", equalTo(List.of("total", "difference")));
    }

    @Test
    void aZipMapClassifiersProbabilitiesAreListedAndAnsweredAsJson() {
        String sha = InspectModelResourceTest.upload(NonTensorModels.classifier(false));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/classifier").then().statusCode(oneOf(200, 201));

        given().get("/v2/models/classifier").then().statusCode(200)
                .body("outputs.name", equalTo(List.of("label", "probabilities")))
                .body("outputs[0].datatype", equalTo("INT64"))
                .body("outputs[0].kind", nullValue())
                .body("outputs[1].datatype", equalTo("JSON"))
                .body("outputs[1].kind", equalTo("seq(map(int64,tensor(float)))"))
                .body("outputs[1].shape", equalTo(List.of(-1)));

        String rows = "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [2, 4],"
                + " \"data\": [[1, 0, 0, 0], [0, 0, 3, 0]]}]%s}";
        JsonPath answer = given().contentType("application/json").body(String.format(rows, ""))
                .when().post("/v2/models/classifier/infer").then().statusCode(200)
                .body("outputs.name", equalTo(List.of("label", "probabilities")))
                .body("outputs[0].data", equalTo(List.of(0, 2)))
                .body("outputs[1].datatype", equalTo("JSON"))
                .body("outputs[1].shape", equalTo(List.of(2)))
                .extract().jsonPath();
        float[] second = NonTensorModels.probabilities(new float[] {0, 0, 3, 0});
        Map<String, Float> map = answer.getMap("outputs[1].data[1]", String.class, Float.class);
        assertThat(map).containsOnlyKeys("0", "1", "2");
        for (int c = 0; c < 3; c++) {
            assertThat(map.get(Integer.toString(c))).isCloseTo(second[c], org.assertj.core.data.Offset.offset(1e-6f));
        }

        // only the maps, when only they are asked for
        given().contentType("application/json")
                .body(String.format(rows, ", \"outputs\": [{\"name\": \"probabilities\"}]"))
                .when().post("/v2/models/classifier/infer").then().statusCode(200)
                .body("outputs.name", equalTo(List.of("probabilities")))
                .body("outputs[0].data[0].'0'", org.hamcrest.Matchers.greaterThan(0.5f));
        // an output the model lacks names the ones it has; a bad input still names the input
        given().contentType("application/json")
                .body(String.format(rows, ", \"outputs\": [{\"name\": \"output_probability\"}]"))
                .when().post("/v2/models/classifier/infer").then().statusCode(400)
                .body("errors[0].field", equalTo("outputs[0].name"))
                .body("detail", equalTo("unknown output 'output_probability', expected one of [label, probabilities]"));
        given().contentType("application/json").body(input("features", "FP32", List.of(1, 3), List.<Object>of(1, 0, 0)))
                .when().post("/v2/models/classifier/infer").then().statusCode(400)
                .body("errors[0].field", equalTo("inputs[0].shape"))
                .body("detail", containsString("input 'features' has shape [1, 3], the model expects [-1, 4]"));
    }

    @Test
    void aValueTheModelCannotTakeIsTheCallersErrorAndNotTheVersions() {
        String sha = InspectModelResourceTest.upload(SignatureModels.lookup());
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/lookup").then().statusCode(oneOf(200, 201));

        // token id 7 fits the signature (INT64 [N]) but not the 3-token table: ONNX Runtime's invalid argument
        given().contentType("application/json").body(input("token_ids", "INT64", List.of(2), List.of(0, 7)))
                .when().post("/v2/models/lookup/infer")
                .then().statusCode(400).contentType("application/problem+json")
                .body("errors[0].field", equalTo("inputs"))
                .body("detail", containsString("cannot take these inputs"))
                .body("detail", containsString("input 'token_ids' INT64 [2] (the model expects INT64 [-1], -1: any size)"));
        // a rank the model cannot take is refused before it runs, naming the input and its declared shape
        given().contentType("application/json").body(input("token_ids", "INT64", List.of(1, 2), List.of(0, 1)))
                .when().post("/v2/models/lookup/infer")
                .then().statusCode(400).body("errors[0].field", equalTo("inputs[0].shape"))
                .body("detail", equalTo("input 'token_ids' has shape [1, 2], the model expects [-1] (-1: any size)"));
        given().contentType("application/json").body(input("token_ids", "INT64", List.of(2), List.of(0, 2)))
                .when().post("/v2/models/lookup/infer")
                .then().statusCode(200).body("outputs[0].data", equalTo(List.of(0.5f, 2.5f)));

        // the rollout's counters saw one request and no error: callers cannot fail a version with bad input
        given().get("/api/endpoints/lookup/metrics").then().statusCode(200)
                .body("[0].version", equalTo(1)).body("[0].requests", equalTo(1)).body("[0].errors", equalTo(0));
    }

    @Test
    void theServerAnswersTheProtocolsServerEndpoints() {
        given().get("/v2").then().statusCode(200)
                .body("name", equalTo("anvil"))
                .body("version", not(nullValue()))
                .body("extensions", equalTo(List.of("binary_tensor_data")));
        given().get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
        Response ready = given().get("/v2/health/ready");
        assertThat(ready.statusCode()).isIn(200, 503);
        assertThat(ready.jsonPath().getBoolean("ready")).isEqualTo(ready.statusCode() == 200);
    }

    @Test
    void binaryTensorDataGoesBothWays() throws Exception {
        String sha = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/binary").then().statusCode(oneOf(200, 201));
        float[] pixels = digitLikePixels(2);
        float[] expected = runInProcess(pixels, 2);

        // binary in, binary out (what Triton's HTTP client sends by default)
        String header = "{\"id\": \"b-1\", \"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\","
                + " \"shape\": [2, 1, 28, 28], \"parameters\": {\"binary_data_size\": 6272}}],"
                + " \"parameters\": {\"binary_data_output\": true}}";
        Response answer = binary(header, littleEndian(pixels), "/v2/models/binary/infer");
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.contentType()).startsWith("application/octet-stream");
        int headerLength = Integer.parseInt(answer.header("Inference-Header-Content-Length"));
        byte[] body = answer.asByteArray();
        JsonPath json = JsonPath.from(new String(body, 0, headerLength, StandardCharsets.UTF_8));
        assertThat(json.getString("id")).isEqualTo("b-1");
        assertThat(json.getString("outputs[0].name")).isEqualTo("output_probs");
        assertThat(json.getList("outputs[0].shape")).containsExactly(2, 10);
        assertThat(json.getInt("outputs[0].parameters.binary_data_size")).isEqualTo(80);
        assertThat(json.getList("outputs[0].data")).isNull();
        assertThat(body).hasSize(headerLength + 80);
        FloatBuffer probs = ByteBuffer.wrap(body, headerLength, 80).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (int i = 0; i < expected.length; i++) {
            assertThat(probs.get(i)).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6f));
        }

        // binary in, JSON out; and JSON in with one output asked for as binary
        String jsonOut = header.replace(", \"parameters\": {\"binary_data_output\": true}", "");
        Response mixed = binary(jsonOut, littleEndian(pixels), "/v2/models/binary/versions/1/infer");
        assertThat(mixed.statusCode()).isEqualTo(200);
        assertThat(mixed.header("Inference-Header-Content-Length")).isNull();
        List<Float> served = mixed.jsonPath().getList("outputs[0].data", Float.class);
        for (int i = 0; i < expected.length; i++) {
            assertThat(served.get(i)).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6f));
        }
        String asked = request(pixels, 2, false).replace("{\"id\": \"req-1\",",
                "{\"id\": \"req-1\", \"outputs\": [{\"name\": \"output_probs\", \"parameters\": {\"binary_data\": true}}],");
        Response binaryOut = given().contentType("application/json").body(asked).when().post("/v2/models/binary/infer");
        assertThat(binaryOut.statusCode()).isEqualTo(200);
        int length = Integer.parseInt(binaryOut.header("Inference-Header-Content-Length"));
        assertThat(binaryOut.asByteArray()).hasSize(length + 80);

        // JSON with "data" before "name" and "shape" (read once the input's object ends) gives the same answer
        String dataFirst = "{\"inputs\": [{\"data\": " + java.util.Arrays.toString(pixels) + ", \"shape\": [2, 1, 28, 28],"
                + " \"name\": \"input_image\", \"datatype\": \"FP32\"}]}";
        assertThat(given().contentType("application/json").body(dataFirst).when().post("/v2/models/binary/infer")
                .then().statusCode(200).extract().jsonPath().getList("outputs[0].data", Float.class)).isEqualTo(served);
    }

    @Test
    void binaryMistakesAreNamed() throws Exception {
        String sha = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/binstrict").then().statusCode(oneOf(200, 201));
        byte[] one = littleEndian(digitLikePixels(1));
        String url = "/v2/models/binstrict/infer";

        // the header says the JSON is longer than the whole body
        Response tooLong = given().contentType("application/octet-stream").header("Inference-Header-Content-Length", "99999")
                .body(concat(binaryHeader("input_image", 3136), one)).when().post(url);
        assertProblem(tooLong, "Inference-Header-Content-Length", "is 99999 but the body has only");
        assertProblem(given().contentType("application/octet-stream").header("Inference-Header-Content-Length", "ten")
                .body(concat(binaryHeader("input_image", 3136), one)).when().post(url),
                "Inference-Header-Content-Length", "is 'ten'");
        // the header length cuts into the tensor bytes
        byte[] header = binaryHeader("input_image", 3136).getBytes(StandardCharsets.UTF_8);
        Response overlapping = given().contentType("application/octet-stream")
                .header("Inference-Header-Content-Length", Integer.toString(header.length + 8)).body(concat(
                        new String(header, StandardCharsets.UTF_8), one)).when().post(url);
        assertThat(overlapping.statusCode()).isEqualTo(400);
        assertThat(overlapping.jsonPath().getString("detail")).contains("Inference-Header-Content-Length");
        // binary_data_size that does not match shape × datatype
        assertProblem(binary(binaryHeader("input_image", 3000), java.util.Arrays.copyOf(one, 3000), url),
                "inputs[0].parameters.binary_data_size",
                "has binary_data_size 3000, its shape [1, 1, 28, 28] of FP32 needs 3136 bytes");
        // more bytes than the inputs claim, and fewer
        assertProblem(binary(binaryHeader("input_image", 3136), concat("", one, new byte[4]), url),
                "Inference-Header-Content-Length", "has 3140 bytes after the");
        assertProblem(binary(binaryHeader("input_image", 3136), java.util.Arrays.copyOf(one, 3100), url),
                "inputs[0].parameters.binary_data_size", "needs 3136 bytes of binary data but only 3100 are left");
        // an unknown input, binary data without the header, and both data and binary_data_size
        assertProblem(binary(binaryHeader("image", 3136), one, url), "inputs[0].name",
                "unknown input 'image', expected one of [input_image]");
        assertProblem(given().contentType("application/json").body(binaryHeader("input_image", 3136)).when().post(url),
                "inputs[0].parameters.binary_data_size", "has no Inference-Header-Content-Length header");
        String both = "{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\", \"shape\": [1, 1, 28, 28],"
                + " \"data\": [" + "0, ".repeat(783) + "0], \"parameters\": {\"binary_data_size\": 3136}}]}";
        assertProblem(binary(both, one, url), "inputs[0].parameters.binary_data_size",
                "has both \"data\" and parameters.binary_data_size");
        String bothParametersFirst = "{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\","
                + " \"shape\": [1, 1, 28, 28], \"parameters\": {\"binary_data_size\": 3136}, \"data\": [1]}]}";
        assertProblem(binary(bothParametersFirst, one, url), "inputs[0].parameters.binary_data_size",
                "has both \"data\" and parameters.binary_data_size");
        assertProblem(binary("{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\", \"shape\": [1, 1, 28, 28],"
                + " \"parameters\": {\"binary_data_size\": -4}}]}", one, url),
                "inputs[0].parameters.binary_data_size", "is -4; it must be the input's size in bytes");
        assertProblem(binary("[1, 2]", one, url), null, "the JSON header must be a JSON object");
        assertProblem(binary("{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\", \"shape\": [1, 1, 28, 28]}]}",
                new byte[0], url), "inputs[0].data", "or parameters.binary_data_size");
        assertProblem(given().contentType("application/json").body(request(digitLikePixels(1), 1, false)
                        .replace("{\"id\"", "{\"outputs\": [{\"name\": \"output_probs\", \"parameters\": {\"binary_data\": \"yes\"}}], \"id\""))
                .when().post(url), "outputs[0].parameters.binary_data", "it must be true or false");

        // none of that counted as a model error, and the gateway still answers
        assertThat(binary(binaryHeader("input_image", 3136), one, url).statusCode()).isEqualTo(200);
        given().get("/api/endpoints/binstrict/metrics").then().statusCode(200)
                .body("[0].requests", equalTo(1)).body("[0].errors", equalTo(0));
    }

    private static void assertProblem(Response r, String field, String detail) {
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.jsonPath().getString("detail")).contains(detail);
        if (field != null) {
            assertThat(r.jsonPath().getString("errors[0].field")).isEqualTo(field);
        }
    }

    /** A binary-extension request: the JSON header, its length in the header, then the bytes. */
    private static Response binary(String header, byte[] tensorBytes, String url) {
        int length = header.getBytes(StandardCharsets.UTF_8).length;
        return given().contentType("application/octet-stream")
                .header("Inference-Header-Content-Length", Integer.toString(length))
                .body(concat(header, tensorBytes)).when().post(url);
    }

    private static String binaryHeader(String input, int size) {
        return "{\"inputs\": [{\"name\": \"" + input + "\", \"datatype\": \"FP32\", \"shape\": [1, 1, 28, 28],"
                + " \"parameters\": {\"binary_data_size\": " + size + "}}]}";
    }

    private static byte[] concat(String header, byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header.getBytes(StandardCharsets.UTF_8));
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] littleEndian(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putFloat(v);
        }
        return bytes.array();
    }

    @Test
    void aCanarySplitsTrafficByWeightAndRoutingKeysStick() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = InspectModelResourceTest.upload(model);
        String candidate = InspectModelResourceTest.upload(withDocString(model, "candidate"));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", stable)))
                .when().put("/api/endpoints/digits").then().statusCode(oneOf(200, 201));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", candidate, "weight", 0)))
                .when().put("/api/endpoints/digits/canary").then().statusCode(200)
                .body("canary.version", equalTo(2)).body("canary.weight", equalTo(0));
        String body = request(digitLikePixels(1), 1, false);

        assertThat(versionsServed(body, 40, null)).containsOnlyKeys("1");
        setWeight("digits", 100);
        assertThat(versionsServed(body, 40, null)).containsOnlyKeys("2");

        setWeight("digits", 30);
        Map<String, Integer> split = versionsServed(body, 200, null);
        assertThat(split).containsKeys("1", "2");
        // sticky: a caller's version never changes while the weight stays
        Set<String> callersOnCanary = new HashSet<>();
        for (int caller = 0; caller < 60; caller++) {
            Map<String, Integer> seen = versionsServed(body, 3, "caller-" + caller);
            assertThat(seen).hasSize(1);
            if (seen.containsKey("2")) {
                callersOnCanary.add("caller-" + caller);
            }
        }
        assertThat(callersOnCanary).isNotEmpty().hasSizeLessThan(60);
        // ... and callers on the canary stay there as its weight grows
        setWeight("digits", 60);
        for (String caller : callersOnCanary) {
            assertThat(versionsServed(body, 1, caller)).containsOnlyKeys("2");
        }

        given().get("/v2/models/digits").then().body("versions", equalTo(List.of("1", "2")));
        JsonPath metrics = given().get("/api/endpoints/digits/metrics").then().statusCode(200).extract().jsonPath();
        assertThat(metrics.getList("role")).containsExactly("stable", "canary");
        assertThat(metrics.getInt("[1].requests")).isPositive();
        assertThat(metrics.getDouble("[1].p95Ms")).isPositive();
        String prometheus = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(prometheus).contains("anvil_gateway_requests_total{endpoint=\"digits\",version=\"2\"}")
                .contains("anvil_gateway_latency_seconds_bucket{endpoint=\"digits\"");

        // promotion: the canary becomes stable, the old version leaves
        given().contentType("application/json").body(BreakGlass.with(Map.of()))
                .when().post("/api/endpoints/digits/canary/promote").then().statusCode(200)
                .body("stable.version", equalTo(2)).body("canary", nullValue());
        given().contentType("application/json").body(body).when().post("/v2/models/digits/versions/1/infer")
                .then().statusCode(404);
        assertThat(versionsServed(body, 10, null)).containsOnlyKeys("2");
        given().when().post("/api/endpoints/digits/canary/promote").then().statusCode(409)
                .body("detail", containsString("no canary to promote"));
    }

    @Test
    void endpointMistakesAreNamed() throws Exception {
        given().contentType("application/json").body(Map.of("artifact", "f".repeat(64)))
                .when().put("/api/endpoints/ghost").then().statusCode(422)
                .body("detail", containsString("is not in artifacts")).body(not(containsString("Exception")));
        given().contentType("application/json").body(Map.of("model", "nobody"))
                .when().put("/api/endpoints/ghost").then().statusCode(404)
                .body("errors[0].field", equalTo("model"));
        given().contentType("application/json").body(Map.of("artifact", "model.onnx"))
                .when().put("/api/endpoints/ghost").then().statusCode(400)
                .body("errors[0].field", equalTo("artifact"));
        given().contentType("application/json").body(Map.of("colour", "red"))
                .when().put("/api/endpoints/ghost").then().statusCode(400)
                .body("detail", containsString("unknown field 'colour'"));
        String sha = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/Bad_Name!").then().statusCode(400)
                .body("errors[0].field", equalTo("name"));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/lonely").then().statusCode(oneOf(200, 201));
        given().contentType("application/json").body(Map.of("weight", 10))
                .when().post("/api/endpoints/lonely/canary/weight").then().statusCode(422)
                .body("detail", containsString("has no canary"));
        given().contentType("application/json").body(Map.of("weight", 101))
                .when().post("/api/endpoints/lonely/canary/weight").then().statusCode(400)
                .body("errors[0].field", equalTo("weight"));
        given().contentType("application/json").body(Map.of("version", 1, "weight", 10))
                .when().put("/api/endpoints/lonely/canary").then().statusCode(422)
                .body("detail", containsString("already the stable version"));
        given().get("/api/endpoints/nobody").then().statusCode(404);
        given().delete("/api/endpoints/lonely").then().statusCode(204);
        given().get("/v2/models/lonely").then().statusCode(404);
    }

    private static Map<String, Integer> versionsServed(String body, int requests, String routingKey) {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < requests; i++) {
            var spec = given().contentType("application/json").body(body);
            if (routingKey != null) {
                spec = spec.header("X-Anvil-Routing-Key", routingKey);
            }
            Response r = spec.when().post("/v2/models/digits/infer");
            assertThat(r.statusCode()).isEqualTo(200);
            seen.merge(r.header("X-Anvil-Model-Version"), 1, Integer::sum);
        }
        return seen;
    }

    private static void setWeight(String endpoint, int weight) {
        given().contentType("application/json").body(BreakGlass.with(Map.of("weight", weight)))
                .when().post("/api/endpoints/" + endpoint + "/canary/weight").then().statusCode(200)
                .body("canary.weight", equalTo(weight));
    }

    /** The same model with a different doc_string (ModelProto field 6): other bytes, same behaviour. */
    static byte[] withDocString(byte[] model, String doc) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(model);
        out.write(0x32);
        out.write(doc.length());
        out.writeBytes(doc.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** Raw pixels 0-255 with a bright vertical stroke, one image after another. */
    static float[] digitLikePixels(int batch) {
        float[] pixels = new float[batch * 784];
        for (int b = 0; b < batch; b++) {
            for (int row = 4; row < 24; row++) {
                pixels[b * 784 + row * 28 + 12 + b * 3] = 255f;
                pixels[b * 784 + row * 28 + 13 + b * 3] = 200f;
            }
        }
        return pixels;
    }

    /** A v2 request for input_image; data nested as [batch][1][28][28] or flat. */
    static String request(float[] pixels, int batch, boolean nested) {
        StringBuilder data = new StringBuilder("[");
        for (int b = 0; b < batch; b++) {
            data.append(b == 0 ? "" : ",").append(nested ? "[[" : "");
            for (int row = 0; row < 28; row++) {
                data.append(row == 0 ? "" : ",").append(nested ? "[" : "");
                for (int col = 0; col < 28; col++) {
                    data.append(col == 0 ? "" : ",").append((int) pixels[b * 784 + row * 28 + col]);
                }
                data.append(nested ? "]" : "");
            }
            data.append(nested ? "]]" : "");
        }
        data.append("]");
        return "{\"id\": \"req-1\", \"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\", \"shape\": [" + batch
                + ", 1, 28, 28], \"data\": " + data + "}]}";
    }

    private static Map<String, Object> input(String name, String datatype, List<Integer> shape, List<Object> data) {
        return Map.of("inputs", List.of(Map.of("name", name, "datatype", datatype, "shape", shape, "data", data)));
    }

    private static List<Object> zeros(int n) {
        List<Object> zeros = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            zeros.add(0);
        }
        return zeros;
    }

    private static org.hamcrest.Matcher<Integer> oneOf(Integer... codes) {
        return org.hamcrest.Matchers.oneOf(codes);
    }

    private static float[] runInProcess(float[] pixels, int batch) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(SharedData.cnnMnist().toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] {batch, 1, 28, 28});
             OrtSession.Result result = session.run(Map.of("input_image", input))) {
            float[][] probs = (float[][]) result.get(0).getValue();
            float[] flat = new float[batch * 10];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(probs[b], 0, flat, b * 10, 10);
            }
            return flat;
        }
    }
}
