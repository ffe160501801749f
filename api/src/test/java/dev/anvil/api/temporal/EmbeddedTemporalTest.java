package dev.anvil.api.temporal;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.ApprovedCandidates;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.Ports;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ANVIL_TEMPORAL_TARGET=embedded: Anvil runs the Temporal dev server in its own process and reaches it
 * in-process; ANVIL_TEMPORAL_EMBEDDED_LISTEN lets another process on the machine reach the same server.
 */
@QuarkusTest
@TestProfile(EmbeddedTemporalTest.Embedded.class)
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class EmbeddedTemporalTest {
    static final int PORT = Ports.ephemeral();

    public static class Embedded implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("anvil.temporal.target", "embedded",
                    "anvil.temporal.embedded-listen", "127.0.0.1:" + PORT);
        }
    }

    @Inject
    TemporalClients clients;

    @BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void aPipelineRunsOnTheServerInsideTheProcessWhichOtherProcessesReachOnTheLoopbackAddress() {
        JsonPath ready = given().get("/q/health/ready").then().statusCode(200).extract().jsonPath();
        assertThat(ready.getString("checks.find { it.name == 'temporal' }.data.target")).isEqualTo("embedded");

        String spec = """
                pipeline: embedded-chain
                tasks:
                  a: {operator: noop}
                  b: {operator: noop, upstream: [a]}
                  c: {operator: noop, upstream: [b]}
                """;
        given().contentType("application/yaml").body(spec.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/embedded-chain").then().statusCode(201);
        String runId = given().contentType("application/json").body("{}").post("/api/pipelines/embedded-chain/runs")
                .then().statusCode(201).extract().path("run");

        JsonPath run = ApprovedCandidates.awaitEnd(runId);
        assertThat(clients.embedded()).as("the embedded server was started").isPresent();
        assertThat(clients.embedded().get().eagerActivityDispatch())
                .as("eager activity dispatch installed inside Quarkus's class loaders").isTrue();
        assertThat(run.getString("run.status")).isEqualTo("success");
        assertThat(run.getList("tasks.taskId")).containsExactly("a", "b", "c");
        assertThat(run.getList("tasks.status")).containsOnly("success");

        // the same server, over gRPC on the loopback address, as a worker-only process would reach it
        WorkflowServiceStubs tcp = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + PORT).build());
        try {
            WorkflowExecutionStatus status = tcp.blockingStub().describeWorkflowExecution(
                    DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default")
                            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(runId)).build())
                    .getWorkflowExecutionInfo().getStatus();
            assertThat(status).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
        } finally {
            tcp.shutdownNow();
        }
    }
}
