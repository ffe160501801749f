package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.ApprovedCandidates;
import dev.anvil.api.BreakGlass;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.ModelVersion;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.OnnxModel;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A submitter alone put a model into production in a second with {@code steps: [100]} and
 * {@code min_requests: 0}: a rollout that gathers no evidence, of a model nobody validated or approved,
 * even one whose inputs did not match the endpoint. Such a rollout is refused unless an admin breaks glass
 * with a reason, which is audited and shown on the endpoints page; the candidate must be built by a run
 * whose gate passed a validation of it and whose approval someone other than the requester gave, read
 * from Anvil's signed provenance and records, on every path (REST and the pipeline's canary task); its
 * signature must match what the endpoint serves, glass broken or not; and the version an endpoint first
 * serves holds the {@code production} alias, so gates compare candidates with what really serves.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class RolloutEvidenceTest {
    @Inject ModelRegistryStore registry;
    @Inject AgroalDataSource dataSource;

    @Test
    void aRolloutWithNoEvidenceIsRefusedForASubmitter() {
        TestTokens.signInAs(TestTokens.SUBMITTER);
        String candidate = "c".repeat(64);
        given().contentType("application/json").body(Map.of("endpoint", "anything", "model", candidate,
                        "steps", List.of(100), "interval", "1s"))
                .when().post("/api/rollouts").then().statusCode(400)
                .body("errors[0].field", equalTo("steps")).body("errors[0].message", containsString("no canary evidence"));
        given().contentType("application/json").body(Map.of("endpoint", "anything", "model", candidate,
                        "steps", List.of(5, 100), "interval", "1s", "min_requests", 0))
                .when().post("/api/rollouts").then().statusCode(400)
                .body("errors[0].field", equalTo("min_requests"));
        // breaking glass is an admin's call
        given().contentType("application/json").body(Map.of("endpoint", "anything", "model", candidate,
                        "steps", List.of(100), "min_requests", 0, "break_glass", Map.of("reason", "hotfix")))
                .when().post("/api/rollouts").then().statusCode(403)
                .body("detail", containsString("only an admin may break glass"));
    }

    @Test
    void anAdminMayBreakGlassWithAReasonAndItIsAudited() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = upload(model);
        given().contentType("application/json").body(BreakGlass.with(Map.of("model", "glass", "artifact", stable)))
                .when().put("/api/endpoints/glass").then().statusCode(201);
        String candidate = upload(ApprovedCandidates.twin(model, "glass-candidate"));
        given().contentType("application/json").body(Map.of("endpoint", "glass", "model", candidate,
                        "steps", List.of(100), "min_requests", 0, "break_glass", Map.of("reason", " ")))
                .when().post("/api/rollouts").then().statusCode(400).body("errors[0].field", equalTo("break_glass"));
        // no evidence at all (an uploaded model, all traffic at once, a 1 s window): glass broken, it starts
        String id = given().contentType("application/json").body(Map.of("endpoint", "glass", "model", candidate,
                        "steps", List.of(100), "interval", "1s", "min_requests", 0,
                        "break_glass", Map.of("reason", "CVE fix, no time")))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");
        given().queryParam("subject", "endpoint:glass").get("/api/audit").then().statusCode(200)
                .body("find { it.action == 'rollout.break_glass' }.actor", equalTo("demo-admin"))
                .body("find { it.action == 'rollout.break_glass' }.detailsJson.reason", equalTo("CVE fix, no time"))
                .body("find { it.action == 'rollout.break_glass' }.detailsJson.rollout", equalTo(id));
        // the rollout's first activity finds the break-glass record and lets the rollout begin
        await("rollout " + id + " began").atMost(Duration.ofSeconds(60))
                .until(() -> given().get("/api/rollouts/" + id).then().extract().path("rollout.state") != null);
        // the endpoints page says it plainly: who, why, which rollout
        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/endpoints").then().statusCode(200)
                .body(containsString("Break glass: <b>demo-admin</b> started rollout <code>" + id + "</code>"))
                .body(containsString("Reason: <q>CVE fix, no time</q>"));
        given().contentType("application/json").body(Map.of("reason", "test over")).post("/api/rollouts/" + id + "/abort");
    }

    @Test
    void aSubmitterAloneCannotRollOutAnUnvalidatedUnapprovedModel() throws Exception {
        TestTokens.signOut(); // each call below names its caller
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        endpoint("unproven", model);
        // the attack that worked: upload any model and roll it out; the spec gathers evidence, the model has none
        String uploaded = upload(as(TestTokens.SUBMITTER), ApprovedCandidates.twin(model, "unproven-upload"));
        as(TestTokens.SUBMITTER).contentType("application/json").body(rollout("unproven", uploaded))
                .when().post("/api/rollouts").then().statusCode(403)
                .body("detail", containsString("candidate " + uploaded + " may not go to production"))
                .body("detail", containsString("has no signed attestation"));
        // built, validated and gated by a run, but nobody approved it yet
        ApprovedCandidates.Built pending = ApprovedCandidates.build("unproven-pending", false);
        as(TestTokens.SUBMITTER).contentType("application/json").body(rollout("unproven", pending.candidate()))
                .when().post("/api/rollouts").then().statusCode(403)
                .body("detail", containsString("run " + pending.run() + "'s approval is pending"));
        as(TestTokens.REVIEWER).contentType("application/json").body(Map.of("comment", "not this one"))
                .post("/api/approvals/" + pending.approval() + "/reject").then().statusCode(200);
        as(TestTokens.SUBMITTER).contentType("application/json").body(rollout("unproven", pending.candidate()))
                .when().post("/api/rollouts").then().statusCode(403)
                .body("detail", containsString("run " + pending.run() + "'s approval is rejected"));
    }

    @Test
    void aModelWhoseRunPassedItsGateAndAnotherPersonsApprovalIsAdmittedAndTheUiShowsTheChain() throws Exception {
        TestTokens.signOut();
        endpoint("proven", Files.readAllBytes(SharedData.cnnMnist()));
        ApprovedCandidates.Built built = ApprovedCandidates.build("proven-candidate", true);
        String id = as(TestTokens.SUBMITTER).contentType("application/json").body(rollout("proven", built.candidate()))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");
        await("the candidate registered as version 2 of 'proven'").atMost(Duration.ofSeconds(60))
                .until(() -> registry.findVersion("proven", 2).isPresent());
        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/models").then().statusCode(200)
                .body(containsString("built by run <a href=\"/ui/runs/" + built.run() + "\">"))
                .body(containsString("approved by <b>demo-reviewer</b>, signature <span class=\"badge valid\">valid</span>"));
        as(TestTokens.ADMIN).contentType("application/json").body(Map.of("reason", "test over"))
                .post("/api/rollouts/" + id + "/abort").then().statusCode(org.hamcrest.Matchers.oneOf(200, 409));
    }

    @Test
    void aTamperedAttestationIsRefusedNamingTheSignature() throws Exception {
        TestTokens.signOut();
        endpoint("tampered", Files.readAllBytes(SharedData.cnnMnist()));
        ApprovedCandidates.Built built = ApprovedCandidates.build("tampered-candidate", true);
        // someone with write access to the database moves the candidate's provenance to another run
        try (Connection c = dataSource.getConnection();
             PreparedStatement update = c.prepareStatement("UPDATE attestations SET envelope = jsonb_set(envelope,"
                     + " '{payload}', to_jsonb(translate(encode(convert_to(replace(convert_from(decode(envelope->>'payload',"
                     + " 'base64'), 'UTF8'), ?, ?), 'UTF8'), 'base64'), E'\\n', ''))) WHERE artifact_sha256 = ?")) {
            update.setString(1, built.run());
            update.setString(2, built.run() + "-elsewhere");
            update.setString(3, built.candidate());
            assertThat(update.executeUpdate()).isEqualTo(1);
        }
        as(TestTokens.SUBMITTER).contentType("application/json").body(rollout("tampered", built.candidate()))
                .when().post("/api/rollouts").then().statusCode(403)
                .body("detail", containsString("has an invalid signature"))
                .body("detail", containsString("forged or tampered"));
    }

    @Test
    void aCandidateWhoseSignatureDiffersIsRefusedNamingBothEvenWhenGlassIsBroken() throws Exception {
        TestTokens.signOut();
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        endpoint("shaped", model);
        OnnxModel wider = OnnxModel.parse(model);
        wider.graph().proto().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder()
                .getDimBuilder(2).setDimValue(32);
        Map<String, Object> body = new java.util.LinkedHashMap<>(rollout("shaped",
                upload(as(TestTokens.ADMIN), wider.toBytes())));
        body.put("break_glass", Map.of("reason", "try the wider input"));
        as(TestTokens.ADMIN).contentType("application/json").body(body).when().post("/api/rollouts").then().statusCode(409)
                .body("detail", containsString("the endpoint serves inputs [input_image: float32["))
                .body("detail", containsString(",1,28,28]]"))
                .body("detail", containsString("the candidate has inputs [input_image: float32["))
                .body("detail", containsString(",1,32,28]]"));
    }

    @Test
    void anIntervalBelowTheFloorIsRefused() {
        TestTokens.signOut();
        Map<String, Object> body = new java.util.LinkedHashMap<>(rollout("anything", "e".repeat(64)));
        body.put("interval", "1s");
        as(TestTokens.SUBMITTER).contentType("application/json").body(body).when().post("/api/rollouts").then()
                .statusCode(400).body("errors[0].field", equalTo("interval"))
                .body("errors[0].message", containsString("interval 1s is below the floor of 2s (ANVIL_ROLLOUT_MIN_INTERVAL)"));
    }

    @Test
    void aPipelineCannotRollOutAModelItDidNotGateAndApproveNorBreakGlass() throws Exception {
        TestTokens.signOut();
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        endpoint("ungated", model);
        String uploaded = upload(as(TestTokens.SUBMITTER), ApprovedCandidates.twin(model, "ungated-candidate"));
        String spec = """
                pipeline: %s
                params: {candidate: none}
                tasks:
                  inspect: {operator: inspect, with: {model: "${params.candidate}"}}
                  rollout:
                    operator: canary
                    upstream: [inspect]
                    with: {endpoint: ungated, model: "${tasks.inspect.outputs.model}", steps: [50, 100], interval: 1m%s}
                """;
        as(TestTokens.ADMIN).contentType("application/yaml")
                .body(spec.formatted("ungated", "").getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/ungated").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201));
        String run = as(TestTokens.SUBMITTER).contentType("application/json")
                .body(Map.of("params", Map.of("candidate", uploaded))).post("/api/pipelines/ungated/runs")
                .then().statusCode(201).extract().path("run");
        JsonPath end = ApprovedCandidates.awaitEnd(run);
        assertThat(end.getString("run.status")).isEqualTo("failed");
        assertThat(end.getString("run.error"))
                .contains("canary: candidate " + uploaded + " may not go to production", "has no signed attestation");
        // breaking glass is an admin's call over REST, never a pipeline's
        as(TestTokens.ADMIN).contentType("application/yaml").body(spec.formatted("glass-in-spec",
                        ", break_glass: {reason: trust me}").getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/glass-in-spec").then().statusCode(422).body(containsString("break_glass"));
    }

    /** A rollout whose shape gathers evidence: small first step, a minute per window, ten requests. */
    private static Map<String, Object> rollout(String endpoint, String candidate) {
        return Map.of("endpoint", endpoint, "model", candidate, "steps", List.of(5, 100), "interval", "1m",
                "min_requests", 10);
    }

    private static RequestSpecification as(String token) {
        return given().spec(TestTokens.bearer(token));
    }

    /** An endpoint (an admin's call) serving the model. */
    private static void endpoint(String name, byte[] model) {
        as(TestTokens.ADMIN).contentType("application/json")
                .body(BreakGlass.with(Map.of("model", name, "artifact", upload(as(TestTokens.ADMIN), model))))
                .when().put("/api/endpoints/" + name).then().statusCode(201);
    }

    private static String upload(RequestSpecification caller, byte[] bytes) {
        return caller.contentType("application/octet-stream").body(bytes)
                .when().post("/api/artifacts?mediaType=application/onnx")
                .then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .extract().path("artifact.sha256");
    }

    @Test
    void theFirstVersionAnEndpointServesHoldsTheProductionAlias() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        String stable = upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(BreakGlass.with(Map.of("model", "first-served", "artifact", stable)))
                .when().put("/api/endpoints/first-served").then().statusCode(201);
        assertThat(registry.resolveAlias("first-served", "production")).map(ModelVersion::version).contains(1);
    }

    private static String upload(byte[] bytes) {
        return given().contentType("application/octet-stream").body(bytes)
                .when().post("/api/artifacts?mediaType=application/onnx")
                .then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .extract().path("artifact.sha256");
    }
}
