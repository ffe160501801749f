package dev.anvil.api.drift;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.api.BreakGlass;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The retraining loop of examples/retrain-digits.yaml and examples/digits-drift-monitor.yaml, end to end on the
 * local stack: a Tribuo digit classifier serves an endpoint; shifted traffic goes through the gateway; the drift
 * monitor finds it; the detection starts retrain-digits (trigger drift); the run trains, quantises, validates
 * against production and gates, then waits; its registrant may not approve it (four-eyes), a reviewer does; the
 * canary, fed live traffic, promotes the retrained model. The specs are the example files with their names
 * made unique to this run (so the endpoint, model and datasets are this test's alone) and the canary made quick:
 * steps 50, 100 every 2 s from 3 canary requests, and a p95 latency ratio of 50 (a busy 2-core test machine
 * times sub-millisecond inferences too roughly for the example's 2.0); nothing else is changed.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class RetrainingLoopTest {
    private static final Path EXAMPLES = Path.of("..", "examples");
    /** Shift every pixel intensity (0..16 in digits.csv) by this much: every feature's PSI leaves the threshold. */
    private static final float SHIFT = 8f;

    @AfterEach
    void signOut() {
        TestTokens.signOut();
    }

    @Test
    void driftedTrafficRetrainsApprovesAndPromotes() throws Exception {
        String name = "digits" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        String retrainSpec = example("retrain-digits.yaml", name)
                .replace("steps: [10, 50, 100]", "steps: [50, 100]")
                .replace("interval: 5m", "interval: 2s")
                .replace("min_requests: 100", "min_requests: 3\n      max_extensions: 1000")
                .replace("max_p95_latency_ratio: 2.0", "max_p95_latency_ratio: 50");
        String monitorSpec = example("digits-drift-monitor.yaml", name);
        assertThat(retrainSpec).contains("drift: " + name + "}", "endpoint: " + name, "steps: [50, 100]", "interval: 2s",
                "min_requests: 3", "max_p95_latency_ratio: 50");

        // the data, split as docs/retraining.md does: every fourth row held out
        List<float[]> rows = digits();
        List<float[]> trainRows = new ArrayList<>();
        List<float[]> testRows = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            (i % 4 == 0 ? testRows : trainRows).add(rows.get(i));
        }
        registerCsv(name + "-train", trainRows);
        registerCsv(name + "-test", testRows);

        // 1. the first model: the same training, run once by hand, put on the endpoint by an admin (first deployment)
        String first = """
                pipeline: %s-first
                tasks:
                  train: {operator: train, with: {dataset: "dataset:%s-train@1", validation: "dataset:%s-test@1", features: 64, trainer: logistic, params: {epochs: 10}}}
                """.formatted(name, name, name);
        put(name + "-first", first, TestTokens.ADMIN);
        String firstRun = as(TestTokens.ADMIN).contentType("application/json").body(Map.of())
                .post("/api/pipelines/" + name + "-first/runs").then().statusCode(201).extract().path("run");
        JsonPath firstEnd = awaitEnd(firstRun, Duration.ofMinutes(5));
        assertThat(firstEnd.getString("run.status")).as(firstEnd.prettify()).isEqualTo("success");
        String served = modelSha(firstRun, "train");
        as(TestTokens.ADMIN).contentType("application/json").body(BreakGlass.with(Map.of("model", name, "artifact", served)))
                .put("/api/endpoints/" + name).then().statusCode(201);

        // 2. the loop's two pipelines, registered by a person who may both submit and review
        String pat = as(TestTokens.ADMIN).contentType("application/json")
                .body(Map.of("principal", "retrainer", "roles", List.of("submitter", "reviewer"))).post("/api/tokens")
                .then().statusCode(201).extract().path("token");
        put("retrain-" + name, retrainSpec, pat);
        put(name + "-drift-monitor", monitorSpec, pat);

        // 3. drifted traffic through the gateway: held-out digits with every pixel shifted
        String invoke = "/v2/models/" + name + "/infer";
        for (int start = 0; start + 30 <= 300; start += 30) {
            as(TestTokens.INVOKER).contentType("application/json").body(request(testRows.subList(start, start + 30), SHIFT))
                    .post(invoke).then().statusCode(200);
        }

        // 4. the monitor, started by hand instead of by its cron; the gateway publishes its sample every 250 ms
        //    in tests, so a check may first see too few rows (drifted null) and is simply run again
        JsonPath check = await("a drift check finds the shifted traffic").atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(2)).until(() -> {
                    String run = as(pat).contentType("application/json").body(Map.of())
                            .post("/api/pipelines/" + name + "-drift-monitor/runs").then().statusCode(201)
                            .extract().path("run");
                    JsonPath end = awaitEnd(run, Duration.ofMinutes(2));
                    assertThat(end.getString("run.status")).as(end.prettify()).isEqualTo("success");
                    return end;
                }, end -> Boolean.TRUE.equals(end.get("tasks.find { it.taskId == 'check' }.metricsJson.drifted")));
        List<String> moved = check.getList("tasks.find { it.taskId == 'check' }.metricsJson.moved");
        assertThat(moved).as("features that moved").isNotEmpty();
        List<Float> psi = check.getList("tasks.find { it.taskId == 'check' }.metricsJson.report.features.psi", Float.class);
        System.out.printf("retraining loop: drift check on %s rows sampled: %d of 64 features moved, PSI %s%n",
                check.get("tasks.find { it.taskId == 'check' }.metricsJson.report.live_rows"), moved.size(),
                psi.stream().filter(java.util.Objects::nonNull).mapToDouble(Float::doubleValue).summaryStatistics());

        // 5. the detection started the retraining pipeline, once, and the run says why
        List<String> retrains = await("the detection starts retrain-" + name).atMost(Duration.ofMinutes(1)).until(
                () -> as(TestTokens.VIEWER).get("/api/runs?pipeline=retrain-" + name).then().statusCode(200).extract()
                        .<List<String>>path("id"), ids -> !ids.isEmpty());
        assertThat(retrains).hasSize(1);
        String runId = retrains.get(0);
        as(TestTokens.VIEWER).get("/api/runs/" + runId).then().statusCode(200)
                .body("trigger.kind", equalTo("drift")).body("trigger.subject", equalTo(name))
                .body("trigger.event", org.hamcrest.Matchers.startsWith("drift:" + name + ":"));

        // 6. train, quantize, validate against production and the gate pass; the run waits at the approval
        String approval = await("run " + runId + " reached its approval").atMost(Duration.ofMinutes(10))
                .pollInterval(Duration.ofSeconds(2)).until(() -> pendingApproval(runId), a -> a != null);
        JsonPath waiting = as(TestTokens.VIEWER).get("/api/runs/" + runId).then().extract().jsonPath();
        for (String task : List.of("train", "quantize", "validate", "gate")) {
            assertThat(waiting.getList("tasks.findAll { it.taskId == '" + task + "' }.status")).as(task + " in " + waiting.prettify())
                    .contains("success");
        }
        String candidate = modelSha(runId, "quantize");
        System.out.printf("retraining loop: train %s; validate %s; gate %s%n",
                waiting.getMap("tasks.find { it.taskId == 'train' && it.status == 'success' }.metricsJson.metrics"),
                waiting.getMap("tasks.find { it.taskId == 'validate' && it.status == 'success' }.metricsJson"),
                waiting.getMap("tasks.find { it.taskId == 'gate' && it.status == 'success' }.metricsJson"));
        assertThat(candidate).isNotEqualTo(served);

        // 7. four eyes: whoever registered the pipeline (its runs' requester) may not approve; a reviewer does
        String approve = "/api/approvals/" + approval + "/approve";
        as(pat).contentType("application/json").body(Map.of()).post(approve)
                .then().statusCode(403).body("detail", org.hamcrest.Matchers.containsString("four-eyes"));
        as(TestTokens.REVIEWER).contentType("application/json")
                .body(Map.of("comment", "drift retrain: accuracy holds")).post(approve).then().statusCode(200)
                .body("state", equalTo("approved"));

        // 8. the canary, analysed on the traffic sent here, promotes the retrained model and the run succeeds
        String body = request(testRows.subList(0, 4), 0f);
        String status = await("run " + runId + " ended").atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    for (int i = 0; i < 10; i++) {
                        as(TestTokens.INVOKER).contentType("application/json").body(body).post(invoke).then().statusCode(200);
                    }
                    return as(TestTokens.VIEWER).get("/api/runs/" + runId).then().statusCode(200).extract().<String>path("run.status");
                }, s -> List.of("success", "failed", "cancelled").contains(s));
        JsonPath run = as(TestTokens.VIEWER).get("/api/runs/" + runId).then().extract().jsonPath();
        assertThat(status).as(run.prettify()).isEqualTo("success");
        System.out.printf("retraining loop: rollout %s%n",
                run.getMap("tasks.find { it.taskId == 'rollout' && it.status == 'success' }.metricsJson"));
        assertThat(run.getString("tasks.find { it.taskId == 'rollout' && it.status == 'success' }.metricsJson.state"))
                .isEqualTo("promoted");
        as(TestTokens.VIEWER).get("/api/endpoints/" + name).then().statusCode(200).body("stable.artifact", equalTo(candidate));
    }

    private static io.restassured.specification.RequestSpecification as(String token) {
        return given().spec(TestTokens.bearer(token));
    }

    private static String example(String file, String name) throws IOException {
        return Files.readString(EXAMPLES.resolve(file)).replace("digits", name);
    }

    private static void put(String pipeline, String spec, String token) {
        as((token)).contentType("application/yaml").body(spec.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/" + pipeline).then().statusCode(oneOf(200, 201));
    }

    private static JsonPath awaitEnd(String runId, Duration atMost) {
        await("run " + runId + " ended").atMost(atMost).pollInterval(Duration.ofMillis(500)).until(
                () -> as(TestTokens.VIEWER).get("/api/runs/" + runId).then().statusCode(200)
                        .extract().<String>path("run.status"), oneOf("success", "failed", "cancelled"));
        return as(TestTokens.VIEWER).get("/api/runs/" + runId).then().statusCode(200)
                .extract().jsonPath();
    }

    /** The pending approval of the run, or null; a run that ended instead fails at once with its record. */
    private static String pendingApproval(String runId) {
        JsonPath run = as(TestTokens.VIEWER).get("/api/runs/" + runId).then().extract().jsonPath();
        assertThat(run.getString("run.status")).as(run.prettify()).isEqualTo("running");
        List<Map<String, Object>> pending = as(TestTokens.VIEWER)
                .get("/api/approvals?state=pending").then().statusCode(200).extract().jsonPath().getList("$");
        return pending.stream().filter(a -> runId.equals(a.get("run"))).map(a -> (String) a.get("id")).findFirst()
                .orElse(null);
    }

    @SuppressWarnings("unchecked")
    private static String modelSha(String runId, String task) {
        Map<String, Object> model = as(TestTokens.VIEWER).get("/api/runs/" + runId).then().statusCode(200).extract().jsonPath()
                .getMap("tasks.find { it.taskId == '" + task + "' && it.status == 'success' }.metricsJson.model");
        return (String) model.get("sha256");
    }

    /** digits.csv.gz: 64 pixel intensities and the digit per line, no header. */
    private static List<float[]> digits() throws IOException {
        List<float[]> rows = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(SharedData.file("sklearn/digits.csv.gz")))) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.trim().split(",");
                float[] row = new float[cells.length];
                for (int i = 0; i < cells.length; i++) {
                    row[i] = Float.parseFloat(cells[i]);
                }
                rows.add(row);
            }
        }
        assertThat(rows).hasSize(1797);
        return rows;
    }

    private static void registerCsv(String dataset, List<float[]> rows) {
        ByteArrayOutputStream csv = new ByteArrayOutputStream();
        for (float[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? "" : ",").append((int) row[i]);
            }
            csv.writeBytes(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
        }
        as(TestTokens.ADMIN).contentType("application/octet-stream").body(csv.toByteArray())
                .post("/api/datasets?name=" + dataset + "&format=csv&input=float_input&header=false")
                .then().statusCode(201).body("version", equalTo(1));
    }

    /** A v2 request of the rows' 64 features (the label column left out), each shifted by {@code shift}. */
    private static String request(List<float[]> rows, float shift) {
        StringBuilder data = new StringBuilder("[");
        for (int r = 0; r < rows.size(); r++) {
            for (int i = 0; i < 64; i++) {
                data.append(r == 0 && i == 0 ? "" : ",").append(rows.get(r)[i] + shift);
            }
        }
        return "{\"inputs\": [{\"name\": \"float_input\", \"datatype\": \"FP32\", \"shape\": [" + rows.size()
                + ", 64], \"data\": " + data.append("]") + "}]}";
    }
}
