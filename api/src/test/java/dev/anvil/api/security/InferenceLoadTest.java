package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.api.BreakGlass;
import dev.anvil.api.InspectModelResourceTest;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.RolloutTest;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A burst of inference requests cannot take the process's memory: a model runs a bounded number of
 * requests at once and refuses the rest with 429, the process holds a bounded number of request bytes and
 * refuses past it with 503, both with Retry-After, and the gateway answers normally once the burst is over.
 */
@QuarkusTest
@TestProfile(InferenceLoadTest.TightLimits.class)
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class InferenceLoadTest {
    /** One request per model at a time, a short queue, and room for one full-size body in flight. */
    public static class TightLimits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("anvil.gateway.max-concurrent-per-model", "1", "anvil.gateway.queue-wait", "100ms",
                    "anvil.gateway.max-request-bytes", "16777216", "anvil.gateway.max-inflight-bytes", "16777216");
        }
    }

    private static final int IMAGE_BYTES = 28 * 28 * Float.BYTES;
    private static String slowModel;

    @BeforeEach
    void slowEndpoint() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        if (slowModel == null) {
            slowModel = InspectModelResourceTest.upload(RolloutTest.slowerTwin(Files.readAllBytes(SharedData.cnnMnist())));
        }
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", slowModel)))
                .when().put("/api/endpoints/crowded").then().statusCode(oneOf(200, 201));
        await("crowded loaded").atMost(Duration.ofMinutes(1))
                .until(() -> given().get("/v2/models/crowded/ready").statusCode() == 200);
    }

    @Test
    void concurrentCallersPastTheModelsLimitGet429WithRetryAfterAndTheModelStillAnswers() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            // 256 images keep the slow model busy for far longer than the 100 ms queue wait
            calls.add(http.sendAsync(infer(256), HttpResponse.BodyHandlers.ofString()));
        }
        List<Integer> statuses = new ArrayList<>();
        HttpResponse<String> refused = null;
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.get();
            statuses.add(response.statusCode());
            if (response.statusCode() == 429) {
                refused = response;
            }
        }
        System.out.println("8 concurrent callers on a model that runs 1 at a time: " + statuses);
        assertThat(statuses).containsOnly(200, 429).contains(200, 429);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("application/problem+json"));
        assertThat(refused.body()).contains("\"status\":429").contains("already running 1 requests")
                .contains("ANVIL_GATEWAY_MAX_CONCURRENT_PER_MODEL");

        // the burst is over: one caller at a time is served as before
        for (int i = 0; i < 3; i++) {
            assertThat(http.send(infer(64), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
    }

    /**
     * A caller that announces a body and then trickles it holds its share of the budget for as long as it
     * likes; a second body that does not fit beside it is refused at once instead of pinning more memory.
     */
    @Test
    void requestsPastTheInflightBudgetGet503WithRetryAfterAndTheBudgetComesBack() throws Exception {
        // the budget is the process's: a big body to another, fast model is refused beside the trickling one
        String fast = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", fast)))
                .when().put("/api/endpoints/roomy").then().statusCode(oneOf(200, 201));
        await("roomy loaded").atMost(Duration.ofMinutes(1))
                .until(() -> given().get("/v2/models/roomy/ready").statusCode() == 200);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long twelveMiB = 12L * 1024 * 1024;
        try (Socket slow = new Socket("localhost", RestAssured.port)) {
            OutputStream out = slow.getOutputStream();
            out.write(("POST /v2/models/crowded/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + TestTokens.ADMIN + "\r\n"
                    + "Content-Length: " + twelveMiB + "\r\n\r\n{\"inputs\": [").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // the server has the request line and headers at once; give its worker a moment to reserve the bytes
            Thread.sleep(500);

            HttpResponse<String> refused = http.send(infer("roomy", 1600), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(refused.body()).contains("past its budget of 16777216").contains("ANVIL_GATEWAY_MAX_INFLIGHT_BYTES");
            // a small one still fits beside it
            assertThat(http.send(infer(64), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
        // the trickling caller went away: its bytes are given back and full-size requests are served again
        await("the budget is given back").atMost(Duration.ofSeconds(10)).until(() ->
                http.send(infer("roomy", 1600), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        given().contentType("application/octet-stream").header("Inference-Header-Content-Length", headerLength(64))
                .body(binaryRequest(64)).when().post("/v2/models/crowded/infer")
                .then().statusCode(200).body("outputs[0].shape", equalTo(List.of(64, 10)));
        given().get("/v2/models/crowded").then().statusCode(200).body("name", containsString("crowded"));
    }

    private static HttpRequest infer(int images) throws Exception {
        return infer("crowded", images);
    }

    private static HttpRequest infer(String model, int images) throws Exception {
        byte[] body = binaryRequest(images);
        return HttpRequest.newBuilder(URI.create("http://localhost:" + RestAssured.port + "/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/octet-stream")
                .header("Authorization", "Bearer " + TestTokens.ADMIN)
                .header("Inference-Header-Content-Length", Integer.toString(headerLength(images)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).timeout(Duration.ofMinutes(2)).build();
    }

    private static String header(int images) {
        return "{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\", \"shape\": [" + images
                + ", 1, 28, 28], \"parameters\": {\"binary_data_size\": " + (images * IMAGE_BYTES) + "}}]}";
    }

    private static int headerLength(int images) {
        return header(images).getBytes(StandardCharsets.UTF_8).length;
    }

    /** The binary tensor data extension: a JSON header, then images × 784 little-endian floats. */
    private static byte[] binaryRequest(int images) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(header(images).getBytes(StandardCharsets.UTF_8));
        ByteBuffer pixels = ByteBuffer.allocate(images * IMAGE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; pixels.hasRemaining(); i++) {
            pixels.putFloat((i % 97) / 97f);
        }
        out.write(pixels.array());
        return out.toByteArray();
    }
}
