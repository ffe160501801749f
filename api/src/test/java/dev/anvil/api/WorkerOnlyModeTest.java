package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The same build as a worker-only process: /api refuses with a problem, health still answers. */
@QuarkusTest
@TestProfile(WorkerOnlyModeTest.WorkerOnly.class)
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class WorkerOnlyModeTest {

    public static class WorkerOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("anvil.api.enabled", "false", "anvil.worker.enabled", "true");
        }
    }

    @Test
    void apiCallsAreRefusedWithAPointerToTheApiProcess() {
        given().get("/api/runs").then().statusCode(503)
                .contentType("application/problem+json")
                .body("detail", containsString("worker only"))
                .body("detail", containsString("ANVIL_API_ENABLED"));
    }

    @Test
    void healthStillAnswers() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }
}
