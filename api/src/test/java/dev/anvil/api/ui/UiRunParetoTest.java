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
 * The run page draws the Pareto front of a compress task (figure, script-safe data, table fallback) from the
 * report its outputs hold; hostile values in a report stay text.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiRunParetoTest {
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void aCompressTaskShowsItsFrontAsAChartAndATable() {
        String run = "ui-pareto-" + UUID.randomUUID();
        runs.create(run, "ui-pareto", "{}", "alice");
        long t = taskRuns.start(run, "grid", 1, "compress", null);
        taskRuns.finish(t, "success", """
                {"model": {"sha256": "abc"}, "report": {"quality_metric": "accuracy", "points": [
                  {"sparsity": 0.0, "bits": 32, "rank": 1.0, "size": 88469, "size_ratio": 1.0, "drop_points": 0.0,
                   "latency_p50_ms": 0.056, "on_front": false, "chosen": false},
                  {"sparsity": 0.0, "bits": 4, "rank": 1.0, "size": 24661, "size_ratio": 0.2788, "drop_points": 0.0,
                   "latency_p50_ms": 0.055, "on_front": true, "chosen": true},
                  {"sparsity": "</script><script>alert(1)</script>", "bits": 2, "rank": 0.5, "size": 17166,
                   "size_ratio": 0.194, "drop_points": 13.4, "latency_p50_ms": null, "on_front": true, "chosen": false}]}}
                """, null);

        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + run).then().statusCode(200)
                .body(containsString("Compression grid of grid"))
                .body(containsString("data-chart=\"pareto\" data-source=\"pareto-data-1\""))
                .body(containsString("<script type=\"application/json\" id=\"pareto-data-1\">"))
                .body(containsString("\"label\":\"sparsity 0.0, 4 bit, rank 1.0\""))
                .body(containsString("\\u003c/script\\u003e")).body(not(containsString("<script>alert")))
                .body(containsString("data-testid=\"pareto\""))
                .body(containsString("<td>chosen</td>"))
                .body(containsString("src=\"/ui/charts.js\""));
    }

    @Test
    void aRunWithoutACompressTaskHasNoFront() {
        String run = "ui-no-pareto-" + UUID.randomUUID();
        runs.create(run, "ui-no-pareto", "{}", "alice");
        long t = taskRuns.start(run, "prune", 1, "prune", null);
        taskRuns.finish(t, "success", "{\"report\": {\"points\": 3}}", null);

        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + run).then().statusCode(200)
                .body(not(containsString("data-chart=\"pareto\""))).body(not(containsString("/ui/charts.js")));
    }
}
