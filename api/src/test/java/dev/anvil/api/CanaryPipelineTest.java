package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A pipeline whose last task is a canary rollout: the run ends when the rollout promotes the candidate. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class CanaryPipelineTest {

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }
    /** The release a team runs: build, measure, gate, approve, then roll out what was approved. */
    private static final String SPEC = """
            pipeline: digits-rollout
            params: {model: none, evaluation: none}
            default_args: {retries: 0, execution_timeout: 10m}
            tasks:
              build:    {operator: convert, with: {model: "${params.model}", opset: 13}}
              validate: {operator: validate, upstream: [build], with: {model: "${tasks.build.outputs.model}", dataset: "${params.evaluation}", samples: 200}}
              gate:     {operator: gate, upstream: [validate], with: {require: {accuracy: ">= 0.9"}}}
              approve:  {operator: approval, upstream: [gate], with: {summary: "roll it out?"}}
              rollout:
                operator: canary
                upstream: [approve]
                with:
                  endpoint: rolling
                  model: "${tasks.build.outputs.model}"
                  steps: [50, 100]
                  interval: 2s
                  min_requests: 3
                  max_extensions: 1000
                  analysis: {max_error_rate: 0.01, max_p95_latency_ratio: 50}
            """;

    /** A pipeline that rolls out what it was given, measuring and approving nothing. */
    static final String UNGATED_SPEC = """
            pipeline: digits-ungated
            params: {candidate: none}
            tasks:
              inspect: {operator: inspect, with: {model: "${params.candidate}"}}
              rollout:
                operator: canary
                upstream: [inspect]
                with:
                  endpoint: rolling
                  model: "${tasks.inspect.outputs.model}"
                  steps: [50, 100]
                  interval: 2s
                  min_requests: 3
            """;

    @Test
    void theRunWaitsForTheRolloutAndSucceedsWhenItPromotes() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = InspectModelResourceTest.upload(model);
        String input = InspectModelResourceTest.upload(GatewayTest.withDocString(model, "rolling-candidate"));
        given().contentType("application/json").body(BreakGlass.with(Map.of("model", "rolling", "artifact", stable)))
                .when().put("/api/endpoints/rolling").then().statusCode(201);
        given().contentType("application/yaml").body(SPEC.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/digits-rollout").then().statusCode(201);
        TestTokens.signOut(); // the submitter runs it, a reviewer approves it: each call names its caller
        String runId = given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json")
                .body(Map.of("params", Map.of("model", input, "evaluation", ApprovedCandidates.evaluation()), "cache", false))
                .post("/api/pipelines/digits-rollout/runs").then().statusCode(201).extract().path("run");
        String approval = ApprovalResourceTest.awaitPendingApproval(runId);
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json")
                .body(Map.of("comment", "gate passed")).post("/api/approvals/" + approval + "/approve").then().statusCode(200);
        TestTokens.signInAs(TestTokens.ADMIN);
        String built = JsonValues.text(given().get("/api/runs/" + runId).then().extract()
                .path("tasks.find { it.taskId == 'build' }.metricsJson"));

        String body = GatewayTest.request(GatewayTest.digitLikePixels(1), 1, false);
        String status = "running";
        for (int i = 0; i < 100_000 && !List.of("success", "failed", "cancelled").contains(status); i++) {
            given().contentType("application/json").body(body).when().post("/v2/models/rolling/infer")
                    .then().statusCode(200);
            if (i % 20 == 0) {
                status = given().get("/api/runs/" + runId).then().statusCode(200).extract().path("run.status");
            }
        }
        JsonPath run = given().get("/api/runs/" + runId).then().extract().jsonPath();
        assertThat(status).as(run.prettify()).isEqualTo("success");
        given().get("/api/endpoints/rolling").then().statusCode(200)
                .body("stable.artifact", org.hamcrest.Matchers.not(equalTo(stable)));
        assertThat(built).contains((String) given().get("/api/endpoints/rolling").then().extract().path("stable.artifact"));
        assertThat(JsonValues.text(run.get("tasks.find { it.taskId == 'rollout' }.metricsJson"))).contains("\"state\":\"promoted\"");
    }

    @Test
    void aCanaryTaskWithABadSpecFailsAtOnceNamingTheField() throws Exception {
        String candidate = InspectModelResourceTest.upload(
                GatewayTest.withDocString(Files.readAllBytes(SharedData.cnnMnist()), "bad-rollout-candidate"));
        String bad = UNGATED_SPEC.replace("pipeline: digits-ungated", "pipeline: bad-rollout").replace("steps: [50, 100]",
                "steps: [50, 80]");
        given().contentType("application/yaml").body(bad.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/bad-rollout").then().statusCode(201);
        String runId = given().contentType("application/json").body(Map.of("params", Map.of("candidate", candidate)))
                .post("/api/pipelines/bad-rollout/runs").then().statusCode(201).extract().path("run");
        JsonPath run = PipelineResourceTest.awaitEnd(runId);
        assertThat(run.getString("run.status")).isEqualTo("failed");
        assertThat(run.getString("run.error")).contains("rollout", "canary:", "steps");
        assertThat(run.getList("tasks.status")).containsExactly("success", "failed");
    }
}
