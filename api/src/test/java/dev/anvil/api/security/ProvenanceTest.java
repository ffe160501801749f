package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.provenance.Dsse;
import dev.anvil.activities.provenance.SigningKey;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Someone who can write to the artifact store or the database could pass a model off as a pipeline's output.
 * A signed attestation answers it: a converted model's provenance, fetched over the API, verifies with the
 * served public key and names the model it came from and its run; the same envelope with its statement
 * changed (a different input) does not verify.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ProvenanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SPEC = """
            pipeline: provenance-convert
            params: {model: none}
            tasks:
              convert: {operator: convert, with: {model: "${params.model}", opset: 13}}
            """;

    @Test
    void aConvertedModelsAttestationVerifiesWithTheServedKeyAndAForgeryDoesNot() throws Exception {
        String input = given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/octet-stream")
                .body(Files.readAllBytes(SharedData.cnnMnist())).post("/api/artifacts?mediaType=application/vnd.onnx")
                .then().statusCode(org.hamcrest.Matchers.oneOf(200, 201)).extract().path("artifact.sha256");
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/yaml").body(SPEC.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/provenance-convert").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201));
        String run = given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("params", Map.of("model", input), "cache", false)).post("/api/pipelines/provenance-convert/runs")
                .then().statusCode(201).extract().path("run");
        await("run " + run).atMost(Duration.ofSeconds(120)).until(
                () -> given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/runs/" + run).then().extract().<String>path("run.status"),
                s -> s.equals("success") || s.equals("failed"));
        JsonPath runView = given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/runs/" + run).then().extract().jsonPath();
        assertThat(runView.getString("run.status")).isEqualTo("success");
        String output = runView.getString("tasks.find { it.taskId == 'convert' }.metricsJson.model.sha256");

        JsonPath key = given().get("/api/provenance/key").then().statusCode(200).extract().jsonPath();
        ECPublicKey publicKey = SigningKey.publicKeyFromPem(key.getString("publicKey"));
        assertThat(key.getString("keyid")).isEqualTo(SigningKey.keyId(publicKey));

        String body = given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/artifacts/" + output + "/attestations").then().statusCode(200).extract().asString();
        JsonNode view = JSON.readTree(body);
        assertThat(view.path("key").path("keyid").asText()).isEqualTo(key.getString("keyid"));
        // other runs may have made the same bytes (conversion is deterministic): each attempt has its own
        JsonNode attestation = null;
        for (JsonNode candidate : view.path("attestations")) {
            if (candidate.path("runId").asText().equals(run)) {
                attestation = candidate;
            }
        }
        assertThat(attestation).as("the attestation of run " + run + " among " + view.path("attestations")).isNotNull();
        Dsse.Envelope envelope = JSON.treeToValue(attestation.path("envelope"), Dsse.Envelope.class);
        assertThat(Dsse.verify(envelope, publicKey, key.getString("keyid"))).as("signed with the served key").isTrue();

        JsonNode statement = JSON.readTree(envelope.payloadBytes());
        assertThat(statement.path("subject").get(0).path("digest").path("sha256").asText()).isEqualTo(output);
        JsonNode build = statement.path("predicate").path("buildDefinition");
        assertThat(build.path("resolvedDependencies").get(0).path("digest").path("sha256").asText()).isEqualTo(input);
        assertThat(build.path("externalParameters").path("pipeline").asText()).isEqualTo("provenance-convert");
        assertThat(build.path("externalParameters").path("specSha256").asText()).matches("[0-9a-f]{64}");
        assertThat(statement.path("predicate").path("runDetails").path("metadata").path("invocationId").asText())
                .isEqualTo(run + "/convert/1");

        // the attack: keep the signature, claim the model came from other bytes
        String forgedStatement = new String(envelope.payloadBytes(), StandardCharsets.UTF_8).replace(input, "f".repeat(64));
        Dsse.Envelope forged = new Dsse.Envelope(envelope.payloadType(),
                Base64.getEncoder().encodeToString(forgedStatement.getBytes(StandardCharsets.UTF_8)), envelope.signatures());
        assertThat(forgedStatement).isNotEqualTo(new String(envelope.payloadBytes(), StandardCharsets.UTF_8));
        assertThat(Dsse.verify(forged, publicKey, key.getString("keyid"))).as("forged payload").isFalse();

        // an upload has no provenance to show; an unknown artifact is a 404
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/artifacts/" + input + "/attestations").then().statusCode(200)
                .body("attestations.size()", org.hamcrest.Matchers.equalTo(0));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/artifacts/" + "0".repeat(64) + "/attestations").then().statusCode(404);
    }
}
