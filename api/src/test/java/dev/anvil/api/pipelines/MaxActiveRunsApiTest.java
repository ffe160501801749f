package dev.anvil.api.pipelines;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * max_active_runs through the application and its worker: a run started by hand beyond the limit is accepted,
 * stays queued saying why, can be cancelled while it waits, and starts when the active run ends. Bad values
 * are refused at registration naming the field.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class MaxActiveRunsApiTest {
    private static final String SPEC = """
            pipeline: one-at-a-time
            max_active_runs: 1
            tasks:
              approve: {operator: approval, with: {summary: "one at a time?"}}
            """;

    @BeforeEach
    void signOut() {
        TestTokens.signOut();
    }

    @Test
    void aRunBeyondTheLimitWaitsQueuedAndStartsWhenTheActiveOneEnds() {
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/yaml")
                .body(SPEC.getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/one-at-a-time").then()
                .statusCode(org.hamcrest.Matchers.anyOf(org.hamcrest.Matchers.is(201), org.hamcrest.Matchers.is(200)));
        String first = start().then().statusCode(201).body("waiting", nullValue()).extract().path("run");
        String second = start().then().statusCode(201).body("status", equalTo("queued"))
                .body("waiting", containsString("max_active_runs 1 reached")).extract().path("run");
        String third = start().then().statusCode(201).extract().path("run");
        awaitStatus(first, "running");

        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + second).then().statusCode(200)
                .body("run.status", equalTo("queued"))
                .body("waiting", containsString("max_active_runs 1 of pipeline 'one-at-a-time'"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + first).then().body("waiting", nullValue());
        // the list marks it too, with the run's own fields as before
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs?pipeline=one-at-a-time").then().statusCode(200)
                .body("find { it.id == '" + second + "' }.waiting", equalTo("waiting for a slot (max_active_runs 1)"))
                .body("find { it.id == '" + second + "' }.status", equalTo("queued"))
                .body("find { it.id == '" + first + "' }.waiting", nullValue())
                .body("find { it.id == '" + first + "' }.pipeline", equalTo("one-at-a-time"));

        // the third gives up its place while it waits: no workflow to cancel, it simply ends
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).post("/api/runs/" + third + "/cancel").then().statusCode(202);
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + third).then()
                .body("run.status", equalTo("cancelled")).body("waiting", nullValue());

        // the first ends: its slot goes to the second, which starts its task
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).post("/api/runs/" + first + "/cancel").then().statusCode(202);
        awaitStatus(first, "cancelled");
        awaitStatus(second, "running");

        // a retry of the first (Airflow's clear) finds the slot taken: it waits like a new run
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body("{}")
                .post("/api/runs/" + first + "/retry").then().statusCode(202).body("status", equalTo("queued"))
                .body("waiting", containsString("max_active_runs 1 reached; the retry starts"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + first).then()
                .body("run.status", equalTo("queued")).body("waiting", containsString("waits for a slot"));
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).post("/api/runs/" + second + "/cancel").then().statusCode(202);
        awaitStatus(second, "cancelled");
        awaitStatus(first, "running");
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + first).then().body("waiting", nullValue());
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).post("/api/runs/" + first + "/cancel").then().statusCode(202);
        awaitStatus(first, "cancelled");
    }

    @Test
    void badLimitsAreRefusedAtRegistrationNamingTheField() {
        for (String bad : new String[] {"0", "-1", "two", "1.5"}) {
            given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/yaml")
                    .body(SPEC.replace("one-at-a-time", "bad-limit").replace("max_active_runs: 1", "max_active_runs: " + bad)
                            .getBytes(StandardCharsets.UTF_8))
                    .put("/api/pipelines/bad-limit").then().statusCode(422)
                    .body(containsString("max_active_runs"));
        }
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/pipelines/bad-limit").then().statusCode(404);
    }

    private static io.restassured.response.Response start() {
        return given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body("{}")
                .post("/api/pipelines/one-at-a-time/runs");
    }

    private static void awaitStatus(String run, String status) {
        await("run " + run + " " + status).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(
                () -> given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + run).then().statusCode(200)
                        .extract().<String>path("run.status"), equalTo(status));
    }
}
