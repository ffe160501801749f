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
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A rollout whose workflow failed showed "starting" for ever: its workflow failed before it recorded
 * the rollout, and the status answer read the dead workflow's first state. It must say failed, and why.
 * The API refuses such a rollout before it starts one (no endpoint), so the workflow is started the way
 * anything else that reaches Temporal could start it, and its first activity refuses it.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class RolloutStartingForeverTest {
    @Inject WorkflowClient client;

    @Test
    void aRolloutWhoseWorkflowFailedBeforeItBeganReadsFailedWithTheReason() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        try {
            String candidate = InspectModelResourceTest.upload(Files.readAllBytes(SharedData.cnnMnist()));
            String id = "rollout-starting-" + UUID.randomUUID();
            CanaryRolloutWorkflow rollout = client.newWorkflowStub(CanaryRolloutWorkflow.class,
                    WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.CPU).setWorkflowId(id).build());
            WorkflowClient.start(rollout::run, new CanaryRequest(id, "never-created", candidate, List.of(50, 100), 60,
                    10, 0.01, 2.0, 1, null, "someone"));

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
