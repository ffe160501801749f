package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.api.InspectModelResourceTest;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A rollout whose workflow failed showed "starting" for ever: its workflow failed before it recorded
 * the rollout, and the status answer read the dead workflow's first state. It must say failed, and why.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class RolloutStartingForeverTest {

    @Test
    void aRolloutWhoseWorkflowFailedBeforeItBeganReadsFailedWithTheReason() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        try {
            String candidate = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
            String id = given().contentType("application/json").body(Map.of("endpoint", "never-created",
                            "model", candidate, "steps", List.of(50, 100), "interval", "1m", "min_requests", 10,
                            "break_glass", Map.of("reason", "the endpoint check is what this test is about")))
                    .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");

            await("rollout " + id + " reads failed").atMost(Duration.ofSeconds(60)).until(
                    () -> given().get("/api/rollouts/" + id).then().statusCode(200).extract().path("rollout.state"),
                    equalTo("failed"));
            given().get("/api/rollouts/" + id).then()
                    .body("rollout.reason", containsString("no endpoint named 'never-created'"))
                    .body("live", nullValue());
        } finally {
            TestTokens.signOut();
        }
    }
}
