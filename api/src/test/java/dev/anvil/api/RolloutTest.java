package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Canary rollouts through REST on the local stack: the real gateway, worker, Temporal dev server. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
public class RolloutTest {
    /** Room for one rollout activity on the local worker; the first also waits for the gateway to load the candidate. */
    private static final Duration ROLLOUT_STEP_WAIT = Duration.ofSeconds(60);

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void aGoodCandidateWalksTheStepsUnderLiveTrafficAndIsPromoted() throws Exception {
        String candidate = endpointWithCandidate("live");
        String id = given().contentType("application/json").body(Map.of("endpoint", "live", "model", candidate,
                        "steps", List.of(50, 100), "interval", "2s", "min_requests", 3, "max_extensions", 1000,
                        "analysis", Map.of("max_error_rate", 0.01, "max_p95_latency_ratio", 50)))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");

        String body = GatewayTest.request(GatewayTest.digitLikePixels(1), 1, false);
        String state = "running";
        for (int i = 0; i < 100_000 && !List.of("promoted", "rolled_back", "aborted").contains(state); i++) {
            // stable traffic never fails while the rollout shifts weight
            given().contentType("application/json").body(body).when().post("/v2/models/live/infer")
                    .then().statusCode(200);
            if (i % 20 == 0) {
                state = stateOf(id);
            }
        }
        assertThat(state).isEqualTo("promoted");
        given().get("/api/endpoints/live").then().statusCode(200)
                .body("stable.version", equalTo(2)).body("stable.artifact", equalTo(candidate))
                .body("canary", nullValue());
        given().get("/api/rollouts/" + id).then().body("rollout.weight", equalTo(100))
                .body("rollout.analysisJson.verdict", equalTo("pass"));
        // every window is kept, not only the last: each step's passing window, a canary and a stable entry each
        io.restassured.path.json.JsonPath view = given().get("/api/rollouts/" + id).then().extract().jsonPath();
        List<Map<String, Object>> windows = view.getList("windows");
        assertThat(windows).hasSizeGreaterThanOrEqualTo(4).hasSize(2 * view.getInt("rollout.analysisJson.window"));
        assertThat(windows).filteredOn(w -> "pass".equals(w.get("verdict"))).extracting(w -> w.get("weight"))
                .contains(50, 100);
        assertThat(windows).filteredOn(w -> "canary".equals(w.get("role")))
                .allSatisfy(w -> assertThat(w.get("version")).isEqualTo(2))
                .filteredOn(w -> "pass".equals(w.get("verdict")))
                .allSatisfy(w -> assertThat(((Number) w.get("requests")).longValue()).isGreaterThanOrEqualTo(3))
                .allSatisfy(w -> assertThat(w.get("p95Ms")).isNotNull());
        assertThat(windows).extracting(w -> w.get("analysedAt")).doesNotContainNull();
        // the rollout's page charts them (error rate and p95 per version per window), with the table beneath
        String page = io.restassured.RestAssured.given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/rollouts/" + id)
                .then().statusCode(200).extract().asString();
        assertThat(page).contains("data-chart=\"windows\"").contains("id=\"windows-data\"")
                .contains("data-testid=\"recorded-windows\"").contains("\"name\":\"canary v2\"")
                .contains("\"name\":\"stable v1\"").contains("<script type=\"module\" src=\"/ui/charts.js\">")
                .doesNotContain("style=");

        // the list finds it by endpoint and state, and refuses what it cannot answer
        given().get("/api/rollouts?endpoint=live&state=promoted").then().statusCode(200)
                .body("id", org.hamcrest.Matchers.hasItem(id));
        given().get("/api/rollouts?endpoint=live&state=aborted").then().statusCode(200)
                .body("id", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(id)));
        given().get("/api/rollouts?limit=1&page=0").then().statusCode(200).body("size()", equalTo(1));
        given().get("/api/rollouts?state=exploded").then().statusCode(400).body("errors[0].field", equalTo("state"));
        given().get("/api/rollouts?limit=0").then().statusCode(400).body("errors[0].field", equalTo("limit"));
        given().get("/api/rollouts?page=-1").then().statusCode(400).body("errors[0].field", equalTo("page"));
    }

    @Test
    void aPersonAbortsARolloutAndTheValidatorRefusesNonsense() throws Exception {
        String candidate = endpointWithCandidate("held");
        String id = given().contentType("application/json").body(Map.of("endpoint", "held", "model", candidate,
                        "interval", "1h"))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");
        await("the canary of 'held' at the first step's weight").atMost(ROLLOUT_STEP_WAIT).until(
                () -> given().get("/api/endpoints/held").then().extract().<Integer>path("canary.weight"), equalTo(5));

        given().contentType("application/json").body(Map.of("actor", "dana"))
                .when().post("/api/rollouts/" + id + "/resume").then().statusCode(409)
                .body("detail", containsString("only a paused rollout can be resumed; this one is running"));
        // steering needs the reviewer or admin role: a submitter is refused
        TestTokens.signOut();
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json")
                .body(Map.of("reason", "wrong model"))
                .when().post("/api/rollouts/" + id + "/abort").then().statusCode(403);
        TestTokens.signInAs(TestTokens.ADMIN);
        given().contentType("application/json").body(Map.of("reason", "wrong model"))
                .when().post("/api/rollouts/" + id + "/abort").then().statusCode(200);

        await("rollout " + id + " aborted").atMost(ROLLOUT_STEP_WAIT).until(() -> stateOf(id), equalTo("aborted"));
        given().get("/api/endpoints/held").then().body("stable.version", equalTo(1)).body("canary", nullValue());
        given().contentType("application/json").body(Map.of("actor", "dana"))
                .when().post("/api/rollouts/" + id + "/promote").then().statusCode(409)
                .body("detail", containsString("has finished (aborted)"));
    }

    @Test
    void aMuchSlowerCandidateIsRolledBackAtTheFirstStepWhileStableTrafficNeverFails() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = InspectModelResourceTest.upload(model);
        String slow = InspectModelResourceTest.upload(slowerTwin(model));
        given().contentType("application/json").body(BreakGlass.with(Map.of("model", "slowed", "artifact", stable)))
                .when().put("/api/endpoints/slowed").then().statusCode(201);
        // this test is about the analysis, not the evidence: an admin breaks glass for the untested twin
        String id = given().contentType("application/json").body(Map.of("endpoint", "slowed", "model", slow,
                        "steps", List.of(50, 100), "interval", "2s", "min_requests", 5, "max_extensions", 1000,
                        "analysis", Map.of("max_error_rate", 0.01, "max_p95_latency_ratio", 1.5),
                        "break_glass", Map.of("reason", "RolloutTest: a slower twin to roll back")))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");

        String body = GatewayTest.request(GatewayTest.digitLikePixels(1), 1, false);
        String state = "running";
        int served = 0;
        for (int i = 0; i < 100_000 && !List.of("promoted", "rolled_back", "aborted").contains(state); i++) {
            // every request answers, whichever version serves it, while the rollout judges the canary
            given().contentType("application/json").body(body).when().post("/v2/models/slowed/infer")
                    .then().statusCode(200);
            served++;
            if (i % 10 == 0) {
                state = stateOf(id);
            }
        }
        assertThat(state).isEqualTo("rolled_back");
        assertThat(served).isGreaterThan(5);
        given().get("/api/endpoints/slowed").then().statusCode(200)
                .body("stable.artifact", equalTo(stable)).body("canary", nullValue());
        // rolled back at the first step (weight 50): it never reached 100
        given().get("/api/rollouts/" + id).then().body("rollout.weight", equalTo(0))
                .body("rollout.analysisJson.reason", containsString("latency"));
        assertThat(given().get("/api/rollouts/" + id).then().extract().jsonPath().getInt("rollout.analysisJson.weight"))
                .isNotEqualTo(100);
    }

    /** The rollout's recorded state; "starting" while its first activity (which writes the row) has not run. */
    private static String stateOf(String id) {
        String recorded = given().get("/api/rollouts/" + id).then().statusCode(200).extract().path("rollout.state");
        return recorded == null ? "starting" : recorded;
    }

    /**
     * cnn_mnist with a heavy side branch whose result is multiplied by zero and added to the output: the
     * same answers, several times the work per request.
     */
    public static byte[] slowerTwin(byte[] model) throws Exception {
        dev.anvil.modelkit.onnx.OnnxModel m = dev.anvil.modelkit.onnx.OnnxModel.parse(model);
        var g = m.graph();
        java.util.Random random = new java.util.Random(1);
        float[] w1 = new float[784 * 1536];
        float[] w2 = new float[1536 * 1536];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (float) random.nextGaussian() * 0.01f;
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = (float) random.nextGaussian() * 0.01f;
        }
        g.addInitializer(dev.anvil.modelkit.onnx.Tensors.int64s("slow_shape", new long[] {2}, new long[] {-1, 784}));
        g.addInitializer(dev.anvil.modelkit.onnx.Tensors.floats("slow_w1", new long[] {784, 1536}, w1));
        g.addInitializer(dev.anvil.modelkit.onnx.Tensors.floats("slow_w2", new long[] {1536, 1536}, w2));
        g.addInitializer(dev.anvil.modelkit.onnx.Tensors.floats("slow_zero", new long[0], new float[] {0f}));
        String output = g.proto().getOutput(0).getName();
        var producer = g.proto().getNodeBuilderList().stream().filter(n -> n.getOutputList().contains(output))
                .findFirst().orElseThrow();
        producer.setOutput(producer.getOutputList().indexOf(output), "fast_output");
        String[][] nodes = {
                {"Reshape", "input_image,slow_shape", "slow_flat"},
                {"MatMul", "slow_flat,slow_w1", "slow_h1"},
                {"MatMul", "slow_h1,slow_w2", "slow_h2"},
                {"MatMul", "slow_h2,slow_w2", "slow_h3"},
                {"MatMul", "slow_h3,slow_w2", "slow_h4"},
                {"MatMul", "slow_h4,slow_w2", "slow_h5"},
                {"ReduceSum", "slow_h5", "slow_sum"},
                {"Mul", "slow_sum,slow_zero", "slow_nothing"},
                {"Add", "fast_output,slow_nothing", output}};
        for (String[] n : nodes) {
            var node = NodeProto.newBuilder().setOpType(n[0]).setName("slow_" + n[2])
                    .addAllInput(List.of(n[1].split(","))).addOutput(n[2]);
            if (n[0].equals("ReduceSum")) {
                node.addAttribute(AttributeProto.newBuilder().setName("axes")
                        .setType(AttributeProto.AttributeType.INTS).addInts(1));
            }
            g.addNode(node.build());
        }
        g.sortTopologically();
        return m.toBytes();
    }

    @Test
    void badSpecsAreNamed() {
        given().contentType("application/json").body(Map.of("endpoint", "x", "model", "a".repeat(64), "steps", List.of(50, 20)))
                .when().post("/api/rollouts").then().statusCode(400).body("errors[0].field", equalTo("steps"));
        given().contentType("application/json").body(Map.of("endpoint", "x", "model", "a".repeat(64), "interval", "soon"))
                .when().post("/api/rollouts").then().statusCode(400).body("errors[0].field", equalTo("interval"));
        given().contentType("application/json").body(Map.of("endpoint", "x"))
                .when().post("/api/rollouts").then().statusCode(400).body("errors[0].field", equalTo("model"));
        given().get("/api/rollouts/nope").then().statusCode(404);
    }

    /** An endpoint serving cnn_mnist, and a candidate built, validated, gated and approved by a pipeline run. */
    private static String endpointWithCandidate(String endpoint) throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = InspectModelResourceTest.upload(model);
        String candidate = ApprovedCandidates.of(endpoint + "-candidate");
        given().contentType("application/json").body(BreakGlass.with(Map.of("model", endpoint, "artifact", stable)))
                .when().put("/api/endpoints/" + endpoint).then().statusCode(201);
        return candidate;
    }
}
