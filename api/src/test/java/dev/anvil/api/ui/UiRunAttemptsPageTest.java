package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRunStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The run page lists every try of every task with its own error and a link to that try's log: a rollback
 * reason recorded by the first try survives the second try's success, and long or hostile error text is
 * escaped and wrapped.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiRunAttemptsPageTest {
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void everyTryShowsItsErrorAndLinksItsLog() {
        String run = "ui-attempts-" + UUID.randomUUID();
        runs.create(run, "ui-attempts", "{}", "alice");
        long first = taskRuns.start(run, "rollout", 1, "canary_rollout", null);
        String longReason = "rolled back: canary p95 latency 9.1 ms is 3.2x the stable version's " + "x".repeat(400);
        taskRuns.finish(first, "up_for_retry", null, longReason + " <script>alert(1)</script>");
        long second = taskRuns.start(run, "rollout", 2, "canary_rollout", null);
        taskRuns.finish(second, "success", null, null);

        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + run).then().statusCode(200)
                .body(containsString("data-testid=\"attempts\""))
                .body(containsString("<pre class=\"wrap\" data-testid=\"attempt-error\">rolled back: canary p95 latency"))
                .body(containsString("&lt;script&gt;alert(1)&lt;/script&gt;")).body(not(containsString("<script>alert")))
                .body(containsString("href=\"/api/v2/dags/ui-attempts/dagRuns/" + run + "/taskInstances/rollout/logs/1\""))
                .body(containsString("href=\"/api/v2/dags/ui-attempts/dagRuns/" + run + "/taskInstances/rollout/logs/2\""));
    }

    @Test
    void anUnknownRunIsA404Page() {
        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/no-such-run").then().statusCode(404)
                .body(containsString("No run with id"));
    }
}
