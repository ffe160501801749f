package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.ModelVersion;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A submitter alone put a model into production in a second with {@code steps: [100]} and
 * {@code min_requests: 0}: a rollout that gathers no evidence. Such a rollout is refused unless an admin
 * breaks glass with a reason, which is audited; and the version an endpoint first serves holds the
 * {@code production} alias, so gates compare candidates with what really serves.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class RolloutEvidenceTest {
    @Inject ModelRegistryStore registry;

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
        given().contentType("application/json").body(Map.of("model", "glass", "artifact", stable))
                .when().put("/api/endpoints/glass").then().statusCode(201);
        given().contentType("application/json").body(Map.of("endpoint", "glass", "model", "d".repeat(64),
                        "steps", List.of(100), "min_requests", 0, "break_glass", Map.of("reason", " ")))
                .when().post("/api/rollouts").then().statusCode(400).body("errors[0].field", equalTo("break_glass"));
        String id = given().contentType("application/json").body(Map.of("endpoint", "glass", "model", "d".repeat(64),
                        "steps", List.of(100), "min_requests", 0, "break_glass", Map.of("reason", "CVE fix, no time")))
                .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");
        given().queryParam("subject", "endpoint:glass").get("/api/audit").then().statusCode(200)
                .body("find { it.action == 'rollout.break_glass' }.actor", equalTo("demo-admin"))
                .body("find { it.action == 'rollout.break_glass' }.detailsJson", containsString("CVE fix, no time"))
                .body("find { it.action == 'rollout.break_glass' }.detailsJson", containsString(id));
        given().post("/api/rollouts/" + id + "/abort");
    }

    @Test
    void theFirstVersionAnEndpointServesHoldsTheProductionAlias() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        String stable = upload(Files.readAllBytes(SharedData.cnnMnist()));
        given().contentType("application/json").body(Map.of("model", "first-served", "artifact", stable))
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
