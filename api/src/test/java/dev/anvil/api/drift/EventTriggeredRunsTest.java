package dev.anvil.api.drift;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.DriftReportStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.TrafficChange;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Event-triggered runs through the application: a pipeline whose schedule.on lists a dataset starts once per
 * registered version of it, and its runs say so (trigger.kind dataset, the event audited); a malformed
 * schedule.on is refused at registration naming the entry; the endpoints page shows the latest drift check.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class EventTriggeredRunsTest {
    private static final String SPEC = """
            pipeline: retrain-on-rows
            schedule:
              on: [{dataset: trigger-rows}]
            tasks: {a: {operator: noop}}
            """;

    @Inject DriftReportStore driftReports;
    @Inject EndpointStore endpoints;
    @Inject ModelRegistryStore registry;
    @Inject ArtifactStore artifacts;

    @AfterEach
    void signOut() {
        TestTokens.signOut();
    }

    @Test
    void eachNewDatasetVersionStartsTheListeningPipelineOnce() {
        TestTokens.signInAs(TestTokens.SUBMITTER);
        given().contentType("application/yaml").body(SPEC.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/retrain-on-rows").then().statusCode(201);
        byte[] rows = "a,b,target\n1,2,0\n3,4,1\n".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 2; i++) {
            given().contentType("application/octet-stream").body(rows)
                    .post("/api/datasets?name=trigger-rows&format=csv&label=target").then().statusCode(201);
        }
        List<String> ids = given().get("/api/runs?pipeline=retrain-on-rows").then().statusCode(200)
                .body("$", hasSize(2)).extract().path("id");
        for (String id : ids) {
            given().get("/api/runs/" + id).then().statusCode(200)
                    .body("trigger.kind", equalTo("dataset"))
                    .body("trigger.subject", equalTo("trigger-rows"))
                    .body("trigger.event", org.hamcrest.Matchers.startsWith("dataset:trigger-rows@"));
        }
        TestTokens.signOut();
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/audit?subject=pipeline:retrain-on-rows")
                .then().statusCode(200).body("action", org.hamcrest.Matchers.hasItem("pipeline.triggered"));
    }

    @Test
    void aMalformedEventIsRefusedAtRegistrationNamingTheEntry() {
        TestTokens.signInAs(TestTokens.SUBMITTER);
        given().contentType("application/yaml").body("""
                pipeline: bad-events
                schedule: {cron: "@daily", on: [{drift: ok-name}, {webhook: nope}]}
                tasks: {a: {operator: noop}}
                """.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/bad-events").then().statusCode(422)
                .body(containsString("schedule.on[1]"))
                .body(containsString("unknown event 'webhook'"));
        given().get("/api/pipelines/bad-events").then().statusCode(404);
    }

    @Test
    void theEndpointsPageShowsTheLatestDriftCheck() {
        String sha = "ab".repeat(32);
        artifacts.insert(sha, "s3://anvil/" + sha, 1, "application/vnd.onnx", null);
        registry.createModel("drift-page", null);
        registry.registerVersion("drift-page", sha, null, null);
        endpoints.put("drift-page", "drift-page", 1, null, TrafficChange.byHand("admin", null));
        driftReports.record("drift-page", 1, "rows", 3, true, List.of("x[2]"), """
                {"thresholds": {"psi": 0.2}, "features": [
                  {"name": "x[0]", "psi": 0.01, "ks_p_value": 0.8, "drifted": false},
                  {"name": "x[2]", "psi": 0.7, "ks_p_value": 0.00001, "drifted": true}],
                 "classes": null, "classes_reason": "the reference has no labels"}""", "run-drift-page", "check",
                "run:run-drift-page");
        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/endpoints").then().statusCode(200)
                .body(containsString("data-testid=\"drift-verdict\""))
                .body(containsString("features that moved: x[2]"))
                .body(containsString("data-chart=\"psi\""))
                .body(containsString("id=\"psi-data-drift-page\""))
                .body(not(containsString("style=")));
    }
}
