package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.RunAdmissionStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A run held back by its pipeline's max_active_runs says why on its page and in the runs list, in the words of
 * {@code GET /api/runs/{id}}'s {@code waiting}, escaped like any other text; a run that holds its slot, or one
 * that ended while it waited, shows no reason.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiRunWaitingPageTest {
    private static final String SPEC = """
            pipeline: ui-waiting
            max_active_runs: 1
            tasks:
              approve: {operator: approval, with: {summary: "one at a time?"}}
            """;

    @Inject PipelineRunStore runs;
    @Inject RunAdmissionStore admissions;

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void aRunBeyondTheLimitShowsWhyItWaitsOnItsPageAndInTheList() {
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/yaml")
                .body(SPEC.getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/ui-waiting").then()
                .statusCode(anyOf(is(201), is(200)));
        String first = start();
        String second = start();
        try {
            String reason = given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + second).then()
                    .statusCode(200).body("run.status", equalTo("queued")).extract().path("waiting");
            assertTrue(reason != null && reason.contains("max_active_runs 1"), "the API says why: " + reason);

            given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + second).then().statusCode(200)
                    .body(containsString("data-testid=\"run-status\"><span class=\"badge queued\">queued</span>"))
                    .body(containsString("<p data-testid=\"run-waiting\">Not started yet: "
                            + reason.replace("'", "&#39;") + "."))
                    .body(containsString("<code>anvil runs cancel " + second + "</code>"));
            given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs").then().statusCode(200)
                    .body(containsString("<a href=\"/ui/runs/" + second + "\">" + second + "</a></td><td>ui-waiting</td>"))
                    .body(containsString("<span class=\"muted\" data-testid=\"run-waiting\">waiting for a slot"
                            + " (max_active_runs 1)</span>"));
            // the run that holds the slot does not wait
            given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + first).then().statusCode(200)
                    .body(not(containsString("run-waiting")));
        } finally {
            cancel(second);
            cancel(first);
        }
        awaitStatus(first, "cancelled");
        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + second).then().statusCode(200)
                .body(containsString("<span class=\"badge cancelled\">cancelled</span>"))
                .body(not(containsString("run-waiting")));
    }

    @Test
    void aHostilePipelineNameInTheReasonIsEscaped() {
        // names registered through the API are plain; a row written by another tool is not trusted
        String pipeline = "<b>ui-hostile</b>-" + UUID.randomUUID();
        String holder = "ui-hostile-holder-" + UUID.randomUUID();
        String waiter = "ui-hostile-waiter-" + UUID.randomUUID();
        assertNull(admissions.create(holder, pipeline, null, "{}", "alice", 1, null, true).waiting(),
                "the first run takes the free slot");
        try {
            assertTrue(admissions.create(waiter, pipeline, null, "{}", "alice", 1, null, true).waiting() != null,
                    "the second run waits");
            given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + waiter).then().statusCode(200)
                    .body(containsString("of pipeline &#39;&lt;b&gt;ui-hostile&lt;/b&gt;-"))
                    .body(not(containsString("<b>ui-hostile")));
            given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs").then().statusCode(200)
                    .body(containsString("<td>&lt;b&gt;ui-hostile&lt;/b&gt;-"))
                    .body(not(containsString("<b>ui-hostile")));
        } finally {
            admissions.cancelWaiting(waiter);
            runs.markFailed(holder, "closed by the test that made it");
        }
    }

    private static String start() {
        return given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body("{}")
                .post("/api/pipelines/ui-waiting/runs").then().statusCode(201).extract().path("run");
    }

    private static void cancel(String run) {
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).post("/api/runs/" + run + "/cancel").then().statusCode(202);
    }

    private static void awaitStatus(String run, String status) {
        await("run " + run + " " + status).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(
                () -> given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + run).then().statusCode(200)
                        .extract().<String>path("run.status"), equalTo(status));
    }
}
