package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.SubmittedDecisionStore;
import dev.anvil.workflows.approval.ApprovalDecision;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.approval.RecordedDecision;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.RunState;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whoever reaches Temporal could approve a run: the decide Update named a reviewer and roles, and the
 * workflow believed them. Now the API writes each decision with the authenticated caller to PostgreSQL
 * and sends only its id, and the workflow counts it once an activity has confirmed it there. These
 * tests are that attacker: a Temporal client of their own, next to the API, never through it.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class TemporalDecisionForgeryTest {

    private static final String SPEC = """
            pipeline: forgery
            tasks:
              build:   {operator: noop}
              approve: {operator: approval, upstream: [build], with: {required_approvals: 2}}
              deploy:  {operator: noop, upstream: [approve]}
            """;

    @ConfigProperty(name = "anvil.temporal.target") String target;
    @ConfigProperty(name = "anvil.temporal.namespace") String namespace;
    @Inject AgroalDataSource db;
    @Inject SubmittedDecisionStore submitted;

    private WorkflowServiceStubs stubs;
    private WorkflowClient attacker;

    @BeforeEach
    void connectAsAnyoneWhoReachesTemporal() {
        stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(target).build());
        attacker = WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder().setNamespace(namespace)
                .setIdentity("mallory").build());
    }

    @AfterEach
    void disconnect() {
        stubs.shutdownNow();
    }

    @Test
    void aMadeUpReviewerSentStraightToTemporalIsRefusedAndTheRunKeepsWaiting() {
        String run = startRun();
        String approval = awaitPendingApproval(run);
        WorkflowStub workflow = attacker.newUntypedWorkflowStub(run);

        // the Update that used to work: any name, any roles
        assertThat(refusal(() -> workflow.update("decide", ApprovalOutcome.class,
                new ApprovalDecision("approve", "mallory", List.of("reviewer", "admin"), "approve", "lgtm"))))
                .startsWith("decide no longer takes a reviewer's name and roles");
        // the same fields on today's Update, which has no room for them
        assertThat(refusal(() -> workflow.update("decideRecorded", ApprovalOutcome.class, Map.of("taskId", "approve",
                "reviewer", "mallory", "roles", List.of("reviewer"), "decision", "approve"))))
                .contains("Unrecognized field").contains("RecordedDecision");
        assertThat(refusal(() -> workflow.update("decideRecorded", ApprovalOutcome.class, Map.of("taskId", "approve"))))
                .startsWith("a decision names its approval task and the id Anvil's API submitted it under");
        // an id nobody submitted
        String forged = UUID.randomUUID().toString();
        assertThat(refusal(() -> workflow.update("decideRecorded", ApprovalOutcome.class, new RecordedDecision("approve", forged))))
                .isEqualTo("no decision '" + forged + "' was submitted through Anvil's API");

        assertNothingCounted(run, approval, 0);
        approveThroughTheApi(TestTokens.REVIEWER, approval).body("state", equalTo("pending"));
        assertNothingCounted(run, approval, 1);
    }

    @Test
    void anotherRunsDecisionAndAUsedDecisionAreRefused() {
        String runA = startRun();
        String runB = startRun();
        String approvalA = awaitPendingApproval(runA);
        String approvalB = awaitPendingApproval(runB);
        approveThroughTheApi(TestTokens.REVIEWER, approvalA).body("state", equalTo("pending"));
        String used = decisionIdsOf(approvalA).get(0);
        // a decision the API wrote for run B (the attacker learnt its id)
        String forB = submitted.submit(approvalB, "demo-reviewer", List.of("viewer", "reviewer"), "approve", null).id();
        WorkflowStub workflowA = attacker.newUntypedWorkflowStub(runA);

        assertThat(refusal(() -> workflowA.update("decideRecorded", ApprovalOutcome.class, new RecordedDecision("approve", used))))
                .isEqualTo("decision '" + used + "' was already used on approval " + approvalA + "; each decision counts once");
        assertThat(refusal(() -> workflowA.update("decideRecorded", ApprovalOutcome.class, new RecordedDecision("approve", forB))))
                .isEqualTo("decision '" + forB + "' was submitted for another approval, not '" + approvalA + "'");
        assertThat(refusal(() -> attacker.newUntypedWorkflowStub(runB).update("decideRecorded", ApprovalOutcome.class,
                new RecordedDecision("approve", used))))
                .isEqualTo("decision '" + used + "' was submitted for another approval, not '" + approvalB + "'");

        assertNothingCounted(runA, approvalA, 1);
        assertNothingCounted(runB, approvalB, 0);
        assertThat(submitted.find(forB).orElseThrow().state()).isEqualTo("submitted");
    }

    private static String refusal(Runnable update) {
        try {
            update.run();
        } catch (WorkflowUpdateException e) {
            return ((ApplicationFailure) e.getCause()).getOriginalMessage();
        }
        throw new AssertionError("the forged decision was accepted");
    }

    /** The approval holds {@code decisions} decisions, all made through the API, and the run still waits on it. */
    private void assertNothingCounted(String run, String approval, int decisions) {
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then()
                .body("state", equalTo("pending")).body("decisions.size()", equalTo(decisions));
        if (decisions > 0) {
            given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then()
                    .body("decisions.reviewer", org.hamcrest.Matchers.everyItem(equalTo("demo-reviewer")));
        }
        RunState state = attacker.newWorkflowStub(PipelineWorkflow.class, run).state();
        assertThat(state.tasks()).filteredOn(t -> t.taskId().equals("approve")).singleElement()
                .satisfies(t -> assertThat(t.status()).isEqualTo("running"));
        assertThat(state.tasks()).filteredOn(t -> t.taskId().equals("deploy")).singleElement()
                .satisfies(t -> assertThat(t.status()).isEqualTo("queued"));
    }

    private static io.restassured.response.ValidatableResponse approveThroughTheApi(String token, String approval) {
        return given().spec(TestTokens.bearer(token)).contentType("application/json").body(Map.of())
                .post("/api/approvals/" + approval + "/approve").then().statusCode(200);
    }

    private List<String> decisionIdsOf(String approval) {
        try (Connection c = db.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT id FROM submitted_decisions WHERE approval_id = ?")) {
            s.setString(1, approval);
            try (ResultSet rs = s.executeQuery()) {
                List<String> ids = new java.util.ArrayList<>();
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
                return ids;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String startRun() {
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/yaml")
                .body(SPEC.getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/forgery")
                .then().statusCode(anyOf(equalTo(200), equalTo(201)));
        return given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body(Map.of())
                .post("/api/pipelines/forgery/runs").then().statusCode(201).extract().path("run");
    }

    private static String awaitPendingApproval(String run) {
        return await("run " + run + " reached its approval").atMost(Duration.ofSeconds(60)).until(() -> {
            List<Map<String, Object>> pending = given().spec(TestTokens.bearer(TestTokens.VIEWER))
                    .get("/api/approvals?state=pending").then().statusCode(200).extract().jsonPath().getList("$");
            return pending.stream().filter(a -> run.equals(a.get("run"))).map(a -> (String) a.get("id")).findFirst();
        }, Optional::isPresent).orElseThrow();
    }
}
