package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Canary rollouts through REST on the local stack: the real gateway, worker, Temporal dev server. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class RolloutTest {

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void aGoodCandidateWalksTheStepsUnderLiveTrafficAndIsPromoted() throws Exception {
        String candidate = endpointWithCandidate("live");
        String id = given().contentType("application/json").body(Map.of("endpoint", "live", "model", candidate,
                        "steps", List.of(50, 100), "interval", "1s", "min_requests", 3, "max_extensions", 1000,
                        "analysis", Map.of("max_error_rate", 0.01, "max_p95_latency_ratio", 50)))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");

        String body = GatewayTest.request(GatewayTest.digitLikePixels(1), 1, false);
        String state = "running";
        for (int i = 0; i < 100_000 && !List.of("promoted", "rolled_back", "aborted").contains(state); i++) {
            // stable traffic never fails while the rollout shifts weight
            given().contentType("application/json").body(body).when().post("/v2/models/live/infer")
                    .then().statusCode(200);
            if (i % 20 == 0) {
                state = given().get("/api/rollouts/" + id).then().statusCode(200)
                        .extract().path("rollout.state");
            }
        }
        assertThat(state).isEqualTo("promoted");
        given().get("/api/endpoints/live").then().statusCode(200)
                .body("stable.version", equalTo(2)).body("stable.artifact", equalTo(candidate))
                .body("canary", nullValue());
        given().get("/api/rollouts/" + id).then().body("rollout.weight", equalTo(100))
                .body("rollout.analysisJson", containsString("\"verdict\": \"pass\""));
    }

    @Test
    void aPersonAbortsARolloutAndTheValidatorRefusesNonsense() throws Exception {
        String candidate = endpointWithCandidate("held");
        String id = given().contentType("application/json").body(Map.of("endpoint", "held", "model", candidate,
                        "interval", "1h"))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");
        Integer weight = null;
        for (int i = 0; i < 10_000 && !Integer.valueOf(5).equals(weight); i++) {
            weight = given().get("/api/endpoints/held").then().extract().path("canary.weight");
        }
        assertThat(weight).isEqualTo(5);

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

        String state = "running";
        for (int i = 0; i < 10_000 && !"aborted".equals(state); i++) {
            state = given().get("/api/rollouts/" + id).then().extract().path("rollout.state");
        }
        assertThat(state).isEqualTo("aborted");
        given().get("/api/endpoints/held").then().body("stable.version", equalTo(1)).body("canary", nullValue());
        given().contentType("application/json").body(Map.of("actor", "dana"))
                .when().post("/api/rollouts/" + id + "/promote").then().statusCode(409)
                .body("detail", containsString("has finished (aborted)"));
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

    private static String endpointWithCandidate(String endpoint) throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = InspectModelResourceTest.upload(model);
        String candidate = InspectModelResourceTest.upload(GatewayTest.withDocString(model, endpoint + "-candidate"));
        given().contentType("application/json").body(Map.of("model", endpoint, "artifact", stable))
                .when().put("/api/endpoints/" + endpoint).then().statusCode(201);
        return candidate;
    }
}
