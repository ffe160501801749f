package dev.anvil.api.tasks;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The external operator end to end against the local stack: Anvil POSTs a job to {@link TestTrainer}; the test
 * plays the trainer through the job's presigned URLs and callback URLs, as a real training service would.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
@QuarkusTestResource(value = TestTrainer.class, restrictToAnnotatedClass = true)
class ExternalTrainerTest {

    @BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
        TestTrainer.JOBS.clear();
    }

    private static String pipeline(String name, String service, String heartbeat, int retries) {
        return """
                pipeline: %s
                params: {data: none}
                default_args: {retries: %d, retry_delay: 1s}
                tasks:
                  train:
                    operator: external
                    with:
                      service: %s
                      inputs: {train: "${params.data}"}
                      params: {epochs: 2, lr: 0.01}
                      heartbeat_timeout: %s
                      timeout: 5m
                  inspect: {operator: inspect, upstream: [train], with: {model: "${tasks.train.outputs.model}"}}
                """.formatted(name, retries, service, heartbeat);
    }

    private static String start(String name, String spec, String dataSha) {
        given().contentType("application/yaml").body(spec.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/" + name).then().statusCode(oneOf(200, 201));
        return given().contentType("application/json").body(Map.of("params", Map.of("data", dataSha)))
                .post("/api/pipelines/" + name + "/runs").then().statusCode(201).extract().path("run");
    }

    private static String upload(byte[] bytes) {
        return given().contentType("application/octet-stream").body(bytes).post("/api/artifacts?mediaType=text/csv")
                .then().statusCode(oneOf(200, 201)).extract().path("artifact.sha256");
    }

    private static byte[] dataset() {
        return "x0,x1,label\n0.1,0.2,0\n0.9,0.8,1\n".getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aTrainerTakesTheJobUploadsAModelHeartbeatsAndCompletes() throws Exception {
        String dataSha = upload(dataset());
        String runId = start("external-ok", pipeline("external-ok", "mock", "30s", 0), dataSha);

        TestTrainer.Job job = TestTrainer.nextJob();
        assertThat(job.authorization()).isEqualTo(TestTrainer.SECRET);
        assertThat(job.body()).containsEntry("run", runId).containsEntry("task", "train").containsEntry("attempt", 1)
                .containsEntry("params", Map.of("epochs", 2, "lr", 0.01));
        assertThat(job.body().get("heartbeat_timeout_seconds")).isEqualTo(30);
        assertThat(job.body().toString()).doesNotContain("taskToken");

        // the dataset comes from object storage through its presigned URL
        HttpResponse<byte[]> data = TestTrainer.get(job.url("inputs", "train", "url"));
        assertThat(data.statusCode()).isEqualTo(200);
        assertThat(data.body()).isEqualTo(dataset());

        // a forged or malformed token reaches nothing
        String forged = "A".repeat(43);
        assertThat(TestTrainer.post(job.url("callback", "heartbeat").replace(job.token(), forged), "{}").statusCode())
                .isEqualTo(404);
        assertThat(TestTrainer.post(job.url("callback", "complete").replace(job.token(), "not-a-token"), "{}")
                .statusCode()).isEqualTo(404);

        // completing before the upload is refused, and the task stays open
        HttpResponse<String> early = TestTrainer.post(job.url("callback", "complete"), "{}");
        assertThat(early.statusCode()).isEqualTo(422);
        assertThat(early.body()).contains("no uploaded model").contains("upload.model.url");
        assertThat(taskStatuses(runId, "train")).containsExactly("running");

        assertThat(TestTrainer.post(job.url("callback", "heartbeat"), "{\"epoch\": 1, \"loss\": 0.4}").statusCode())
                .isEqualTo(200);
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        assertThat(TestTrainer.put(job.url("upload", "model", "url"), model).statusCode()).isEqualTo(200);
        assertThat(TestTrainer.post(job.url("callback", "heartbeat"), "{\"epoch\": 2, \"loss\": 0.2}").statusCode())
                .isEqualTo(200);
        HttpResponse<String> done = TestTrainer.post(job.url("callback", "complete"),
                "{\"metrics\": {\"accuracy\": 0.97}}");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);

        // the token was spent
        HttpResponse<String> again = TestTrainer.post(job.url("callback", "complete"), "{}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.body()).contains("already completed");
        assertThat(TestTrainer.post(job.url("callback", "fail"), "{\"reason\": \"late\"}").statusCode()).isEqualTo(409);

        JsonPath run = awaitEnd(runId);
        assertThat(run.getString("run.status")).isEqualTo("success");
        Map<String, Object> outputs = outputs(runId, "train");
        @SuppressWarnings("unchecked")
        Map<String, Object> modelRef = (Map<String, Object>) outputs.get("model");
        assertThat(modelRef.get("sha256")).isEqualTo(sha256(model));
        @SuppressWarnings("unchecked")
        Map<String, Object> metrics = (Map<String, Object>) outputs.get("metrics");
        assertThat(metrics).containsOnlyKeys("accuracy");
        assertThat(((Number) metrics.get("accuracy")).doubleValue()).isCloseTo(0.97, org.assertj.core.data.Offset.offset(1e-6));
        // the next task read the model the trainer uploaded
        assertThat(taskStatuses(runId, "inspect")).containsExactly("success");
        // lineage: the task used the dataset and generated the model
        given().get("/api/artifacts/" + sha256(model) + "/lineage").then().statusCode(200);
        List<Map<String, Object>> audit = given().get("/api/audit?subject=run:" + runId).then().statusCode(200)
                .extract().jsonPath().getList("$");
        assertThat(audit).anySatisfy(e -> {
            assertThat(e.get("action")).isEqualTo("external_task.completed");
            assertThat(e.get("actor")).isEqualTo("trainer:mock");
        });
    }

    @Test
    void aTrainerThatDiesIsNoticedByItsSilenceAndTheRetryGetsANewJob() throws Exception {
        String dataSha = upload(dataset());
        String runId = start("external-dies", pipeline("external-dies", "mock", "4s", 1), dataSha);

        TestTrainer.Job first = TestTrainer.nextJob();
        assertThat(first.attempt()).isEqualTo(1);
        // the first trainer dies: no heartbeat, so Temporal times the attempt out and retries it
        TestTrainer.Job second = TestTrainer.nextJob();
        assertThat(second.attempt()).isEqualTo(2);
        assertThat(second.token()).isNotEqualTo(first.token());

        // the second trainer stays alive: it heartbeats within the 4 s
        HttpResponse<String> alive = TestTrainer.post(second.url("callback", "heartbeat"), "{\"epoch\": 1}");
        assertThat(alive.statusCode()).as(alive.body()).isEqualTo(200);

        HttpResponse<String> stale = TestTrainer.post(first.url("callback", "heartbeat"), "{}");
        assertThat(stale.statusCode()).isEqualTo(409);
        assertThat(stale.body()).contains("superseded");

        assertThat(TestTrainer.put(second.url("upload", "model", "url"),
                Files.readAllBytes(SharedData.cnnMnist())).statusCode()).isEqualTo(200);
        HttpResponse<String> done = TestTrainer.post(second.url("callback", "complete"), "");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);

        JsonPath run = awaitEnd(runId);
        assertThat(run.getString("run.status")).isEqualTo("success");
        assertThat(taskStatuses(runId, "train")).containsExactly("up_for_retry", "success");
    }

    @Test
    void aTrainerThatFailsFailsTheTaskWithItsReason() throws Exception {
        String dataSha = upload(dataset());
        String runId = start("external-fails", pipeline("external-fails", "mock", "30s", 2), dataSha);

        TestTrainer.Job job = TestTrainer.nextJob();
        assertThat(TestTrainer.post(job.url("callback", "fail"), "{}").statusCode()).isEqualTo(400);
        assertThat(TestTrainer.post(job.url("callback", "fail"), "{\"reason\": \"loss diverged at epoch 3\"}")
                .statusCode()).isEqualTo(200);
        assertThat(TestTrainer.post(job.url("callback", "complete"), "{}").statusCode()).isEqualTo(409);

        JsonPath run = awaitEnd(runId);
        assertThat(run.getString("run.status")).isEqualTo("failed");
        assertThat(run.getString("tasks.find { it.taskId == 'train' }.error")).contains("loss diverged at epoch 3");
        // not retried: the service said why
        assertThat(taskStatuses(runId, "train")).containsExactly("failed");
    }

    @Test
    void aSpecNamingAnUnknownOrMisconfiguredServiceFailsWithTheReason() throws Exception {
        String dataSha = upload(dataset());
        JsonPath unknown = awaitEnd(start("external-unknown", pipeline("external-unknown", "nope", "30s", 2), dataSha));
        assertThat(unknown.getString("run.status")).isEqualTo("failed");
        assertThat(unknown.getString("tasks.find { it.taskId == 'train' }.error"))
                .contains("no training service 'nope'").contains("mock");

        JsonPath bad = awaitEnd(start("external-bad", pipeline("external-bad", "badscheme", "30s", 0), dataSha));
        assertThat(bad.getString("tasks.find { it.taskId == 'train' }.error"))
                .contains("'badscheme' is misconfigured").contains("http(s)");
        assertThat(TestTrainer.JOBS).isEmpty();
    }

    private static List<String> taskStatuses(String runId, String taskId) {
        return given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + runId).then().statusCode(200)
                .extract().jsonPath().getList("tasks.findAll { it.taskId == '" + taskId + "' }.status");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> outputs(String runId, String taskId) throws Exception {
        // metricsJson is a JSON value in the API (CHANGELOG.md), the task's outputs object
        return given().get("/api/runs/" + runId).then().statusCode(200).extract().jsonPath()
                .getMap("tasks.find { it.taskId == '" + taskId + "' && it.status == 'success' }.metricsJson");
    }

    private static JsonPath awaitEnd(String runId) {
        await("run " + runId + " ended").atMost(Duration.ofSeconds(90)).until(
                () -> given().get("/api/runs/" + runId).then().statusCode(200).extract().<String>path("run.status"),
                oneOf("success", "failed", "cancelled"));
        return given().get("/api/runs/" + runId).then().statusCode(200).extract().jsonPath();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
