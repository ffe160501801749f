package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class PipelineResourceTest {

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    private static final String DIGITS = """
            pipeline: digits-check
            description: inspect the digit classifier, then report
            params: {model: none}
            default_args: {retries: 1, retry_delay: 1s, execution_timeout: 5m}
            tasks:
              inspect: {operator: inspect, with: {model: "${params.model}"}}
              pause:   {operator: sleep, upstream: [inspect], with: {seconds: 0.1}}
              report:  {operator: noop, upstream: [pause], trigger_rule: all_done}
            """;

    @Test
    void registerRunAndWatchAPipeline() throws Exception {
        given().contentType("application/yaml").body(DIGITS.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put("/api/pipelines/digits-check")
                .then().statusCode(201).body("version", equalTo(1)).body("tasks", hasItems("inspect", "pause", "report"));
        // the same text again is not a new version
        given().contentType("application/yaml").body(DIGITS.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put("/api/pipelines/digits-check")
                .then().statusCode(200).body("version", equalTo(1));
        given().get("/api/pipelines").then().statusCode(200).body("name", hasItem("digits-check"));

        String sha = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
        String runId = given().contentType("application/json").body(Map.of("params", Map.of("model", sha)))
                .post("/api/pipelines/digits-check/runs")
                .then().statusCode(201).header("Location", containsString("/api/runs/digits-check-"))
                .extract().path("run");

        JsonPath run = awaitEnd(runId);
        assertThat(run.getString("run.status")).isEqualTo("success");
        assertThat(run.getInt("run.pipelineVersion")).isEqualTo(1);
        assertThat(run.getList("tasks.taskId")).containsExactly("inspect", "pause", "report");
        assertThat(run.getList("tasks.status")).containsOnly("success");
        given().get("/api/runs?pipeline=digits-check&state=success").then().statusCode(200).body("id", hasItem(runId));
    }

    @Test
    void anInvalidSpecListsEveryProblemByPathAndStoresNothing() {
        String bad = """
                pipeline: broken
                tasks:
                  a: {operator: noop, upstream: [c]}
                  b: {operator: noop, upstream: [a]}
                  c: {operator: noop, upstream: [b]}
                  d: {operator: quantise}
                  e: {operator: noop, upstream: [nowhere], trigger_rule: sometimes}
                """;
        JsonPath problem = given().contentType("application/yaml").body(bad.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put("/api/pipelines/broken")
                .then().statusCode(422).contentType("application/problem+json")
                .extract().jsonPath();
        List<String> fields = problem.getList("errors.field");
        String messages = String.join("\n", problem.<String>getList("errors.message"));
        assertThat(fields).contains("tasks.d.operator", "tasks.e.upstream[0]", "tasks.e.trigger_rule");
        assertThat(messages).contains("quantise").contains("nowhere").contains("a -> ");
        given().get("/api/pipelines/broken").then().statusCode(404);
    }

    @Test
    void theNameInTheSpecMustMatchThePath() {
        given().contentType("application/yaml").body(DIGITS.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put("/api/pipelines/other-name")
                .then().statusCode(400).body("errors[0].field", equalTo("pipeline"));
    }

    @Test
    void cancellingARunningRun() {
        String slow = """
                pipeline: slow
                tasks:
                  wait: {operator: sleep, with: {seconds: 60}}
                  after: {operator: noop, upstream: [wait]}
                """;
        given().contentType("application/yaml").body(slow.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put("/api/pipelines/slow").then().statusCode(201);
        String runId = given().contentType("application/json").body("{}").post("/api/pipelines/slow/runs")
                .then().statusCode(201).extract().path("run");
        awaitTaskRunning(runId);

        given().post("/api/runs/" + runId + "/cancel").then().statusCode(202);

        JsonPath run = awaitEnd(runId);
        assertThat(run.getString("run.status")).isEqualTo("cancelled");
        assertThat(run.getList("tasks.status")).containsExactly("failed", "skipped");
        given().post("/api/runs/" + runId + "/cancel").then().statusCode(409);
    }

    @Test
    void aScheduledPipelinePausesAndBackfillsRunsWithLogicalDates() {
        String hourly = """
                pipeline: hourly-report
                schedule: "@hourly"
                tasks:
                  report: {operator: noop, with: {}}
                """;
        given().contentType("application/yaml").body(hourly.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/hourly-report").then().statusCode(201);
        given().post("/api/pipelines/hourly-report/pause").then().statusCode(200)
                .body("paused", equalTo(true)).body("scheduled", equalTo(true));
        given().get("/api/pipelines/hourly-report").then().body("paused", equalTo(true)).body("schedule", equalTo("@hourly"));

        given().contentType("application/json").body(Map.of("from", "2026-01-01T00:00:00Z", "to", "2026-01-01T02:00:00Z"))
                .post("/api/pipelines/hourly-report/backfill").then().statusCode(202);
        List<String> ids = await("the backfill started three runs").atMost(Duration.ofSeconds(30)).until(
                () -> given().get("/api/runs?pipeline=hourly-report").then().extract().jsonPath().<String>getList("id"),
                started -> started.size() >= 3);
        assertThat(ids).containsExactlyInAnyOrder("hourly-report-scheduled-20260101T000000Z",
                "hourly-report-scheduled-20260101T010000Z", "hourly-report-scheduled-20260101T020000Z");

        given().contentType("application/json").body(Map.of("from", "2026-01-02T00:00:00Z", "to", "yesterday"))
                .post("/api/pipelines/hourly-report/backfill").then().statusCode(400)
                .body("errors[0].field", equalTo("to"));
    }

    @Test
    void retryingAFailedRunRerunsOnlyTheFailedPartAsNewAttempts() throws Exception {
        String spec = """
                pipeline: retry-demo
                params: {model: none}
                tasks:
                  prepare: {operator: noop}
                  inspect: {operator: inspect, upstream: [prepare], with: {model: "${params.model}"}}
                  publish: {operator: noop, upstream: [inspect]}
                """;
        given().contentType("application/yaml").body(spec.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/retry-demo").then().statusCode(201);
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String corrupt = InspectModelResourceTest.upload(java.util.Arrays.copyOf(model, 100));
        String runId = given().contentType("application/json").body(Map.of("params", Map.of("model", corrupt)))
                .post("/api/pipelines/retry-demo/runs").then().statusCode(201).extract().path("run");
        JsonPath first = awaitEnd(runId);
        assertThat(first.getString("run.status")).isEqualTo("failed");
        assertThat(attempts(first)).containsExactly("prepare#1=success", "inspect#1=failed", "publish#1=upstream_failed");

        // retry the failed part: prepare keeps its success, inspect and publish get attempt 2
        given().contentType("application/json").body("{}").post("/api/runs/" + runId + "/retry").then().statusCode(202);
        JsonPath second = awaitEnd(runId);
        assertThat(attempts(second)).containsExactly("prepare#1=success", "inspect#1=failed", "publish#1=upstream_failed",
                "inspect#2=failed", "publish#2=upstream_failed");

        // from a task: it and everything downstream run again
        given().contentType("application/json").body(Map.of("from", "prepare")).post("/api/runs/" + runId + "/retry")
                .then().statusCode(202);
        JsonPath third = awaitEnd(runId);
        assertThat(attempts(third)).contains("prepare#2=success", "inspect#3=failed", "publish#3=upstream_failed");

        given().contentType("application/json").body(Map.of("from", "nowhere")).post("/api/runs/" + runId + "/retry")
                .then().statusCode(400).body("errors[0].field", equalTo("from"))
                .body("detail", containsString("prepare"));
    }

    @Test
    void onlyEndedRunsThatDidNotSucceedCanBeRetried() {
        given().contentType("application/json").body("{}").post("/api/runs/nope/retry").then().statusCode(404);
        String spec = """
                pipeline: fine
                tasks:
                  a: {operator: noop}
                """;
        given().contentType("application/yaml").body(spec.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/fine").then().statusCode(201);
        String runId = given().contentType("application/json").body("{}").post("/api/pipelines/fine/runs")
                .then().statusCode(201).extract().path("run");
        awaitEnd(runId);
        given().contentType("application/json").body("{}").post("/api/runs/" + runId + "/retry").then().statusCode(409)
                .body("detail", containsString("only failed or cancelled runs"));
    }

    private static List<String> attempts(JsonPath run) {
        List<String> out = new java.util.ArrayList<>();
        List<Map<String, Object>> tasks = run.getList("tasks");
        for (Map<String, Object> t : tasks) {
            out.add(t.get("taskId") + "#" + t.get("attempt") + "=" + t.get("status"));
        }
        return out;
    }

    @Test
    void backfillNeedsASchedule() {
        String plain = """
                pipeline: unscheduled
                tasks:
                  a: {operator: noop}
                """;
        given().contentType("application/yaml").body(plain.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/unscheduled").then().statusCode(201);
        given().contentType("application/json").body(Map.of("from", "2026-01-01T00:00:00Z", "to", "2026-01-02T00:00:00Z"))
                .post("/api/pipelines/unscheduled/backfill").then().statusCode(409)
                .body("detail", containsString("no schedule"));
    }

    @Test
    void unknownPipelineAndSchema() {
        given().contentType("application/json").body("{}").post("/api/pipelines/nothing/runs")
                .then().statusCode(404).body("detail", containsString("PUT /api/pipelines/nothing"));
        given().get("/api/schemas/pipeline.json").then().statusCode(200).body(containsString("\"tasks\""));
    }

    /** The run once it has ended; an ended run no longer changes, so it is read in full once more. */
    static JsonPath awaitEnd(String runId) {
        await("run " + runId + " ended").atMost(Duration.ofSeconds(60)).until(
                () -> given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + runId).then().statusCode(200).extract().<String>path("run.status"),
                oneOf("success", "failed", "cancelled"));
        return given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + runId).then().statusCode(200).extract().jsonPath();
    }

    private static void awaitTaskRunning(String runId) {
        await("a task of " + runId + " started").atMost(Duration.ofSeconds(30)).until(
                () -> !given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + runId).then().extract().jsonPath().getList("tasks").isEmpty());
    }
}
