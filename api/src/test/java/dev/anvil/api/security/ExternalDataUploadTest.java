package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.modelkit.security.ExternalDataModels;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An uploaded model whose weight names a file in the server's temporary folder (where every task writes
 * the model it works on) cannot read that file: inspect answers 422 naming external data, and a
 * pipeline's convert task fails once, with the same reason, without the secret anywhere.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ExternalDataUploadTest {
    private static final String PIPELINE = """
            pipeline: exfiltrate
            params: {model: none}
            default_args: {retries: 2, retry_delay: 1s, execution_timeout: 5m}
            tasks:
              convert: {operator: convert, with: {model: "${params.model}", opset: 13}}
            """;

    /** A part of the secret that its file's name does not hold. */
    private static final String SECRET_PART = ExternalDataModels.SECRET.substring("anvil-secret-".length());

    private Path secret;
    private String model;
    private String refusal;

    @BeforeEach
    void uploadAModelThatNamesASecretBesideIt() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        secret = Files.createTempFile("planted-", ".txt");
        Files.writeString(secret, ExternalDataModels.SECRET, StandardCharsets.US_ASCII);
        String name = secret.getFileName().toString();
        model = given().contentType("application/octet-stream")
                .body(ExternalDataModels.readsFile(name).toByteArray())
                .when().post("/api/artifacts?mediaType=application/onnx")
                .then().statusCode(oneOf(200, 201)).extract().path("artifact.sha256");
        refusal = "external data is not supported: embed the weights (tensor 'W' refers to file '" + name + "')";
    }

    @AfterEach
    void removeTheSecret() throws Exception {
        Files.deleteIfExists(secret);
    }

    @Test
    void inspectIs422NamingExternalData() {
        given().contentType("application/json").body(Map.of("artifact", model))
                .when().post("/api/models/inspect")
                .then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString(refusal))
                .body(not(containsString(SECRET_PART)));
    }

    @Test
    void aConvertTaskFailsOnceWithTheReason() {
        given().contentType("application/yaml").body(PIPELINE.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/exfiltrate").then().statusCode(oneOf(200, 201));
        String runId = given().contentType("application/json").body(Map.of("params", Map.of("model", model)))
                .post("/api/pipelines/exfiltrate/runs").then().statusCode(201).extract().path("run");

        await("run " + runId + " ended").atMost(Duration.ofSeconds(60)).until(
                () -> given().get("/api/runs/" + runId).then().statusCode(200).extract().<String>path("run.status"),
                oneOf("success", "failed", "cancelled"));
        String body = given().get("/api/runs/" + runId).then().statusCode(200).extract().asString();
        JsonPath run = JsonPath.from(body);
        assertThat(run.getString("run.status")).isEqualTo("failed");
        assertThat(run.getString("run.error")).contains(refusal);
        assertThat(run.getList("tasks.attempt")).as("bad input is not retried").containsExactly(1);
        assertThat(body).doesNotContain(SECRET_PART);
    }
}
