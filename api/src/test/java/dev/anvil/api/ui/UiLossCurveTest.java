package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRunStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The run page charts the loss curve a task's metrics hold (what the train operator records), with the same
 * figures as a table; a curve it cannot trust is left out, and a task without one gets no section.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiLossCurveTest {
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;

    private String runWith(String... taskMetrics) {
        String run = "ui-loss-" + UUID.randomUUID();
        runs.create(run, "ui-loss", "{}", "alice");
        for (int i = 0; i < taskMetrics.length; i++) {
            long t = taskRuns.start(run, "task" + i, 1, "train", null);
            taskRuns.finish(t, "success", taskMetrics[i], null);
        }
        return run;
    }

    @Test
    void aTrainTasksLossCurveIsChartedWithItsTable() {
        String run = runWith("{\"metrics\": {\"train.accuracy\": 0.97, \"final_loss\": 0.0712},"
                + " \"loss_curve\": [0.6931, 0.3012, 0.1544, 0.0712]}", "{\"metrics\": {\"size\": 3}}");

        String html = given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + run).then().statusCode(200)
                .body(containsString("<h2>Training loss</h2>"))
                .body(containsString("data-chart=\"loss\" data-source=\"loss-data-0\" data-fallback=\"loss-table-0\""))
                .body(containsString("<script type=\"application/json\" id=\"loss-data-0\">"
                        + "{\"task\":\"task0\",\"loss\":[0.6931,0.3012,0.1544,0.0712]}</script>"))
                .body(containsString("(4 epochs, last 0.07120)"))
                .body(containsString("<script type=\"module\" src=\"/ui/charts.js\"></script>"))
                .extract().asString();
        assertThat(html).contains("<tr><td class=\"n\">2</td><td class=\"n\">0.3012</td></tr>");
        assertThat(html).doesNotContain("Task task1,").doesNotContain("loss-data-1");
    }

    @Test
    void aSingleEpochIsATableAndACurveWithAnythingButLossesIsLeftOut() {
        String run = runWith("{\"loss_curve\": [0.5]}", "{\"loss_curve\": [0.5, \"NaN\"]}",
                "{\"loss_curve\": [0.5, -0.2]}", "{\"loss_curve\": \"0.5\"}");

        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + run).then().statusCode(200)
                .body(containsString("Task task0, try 1")).body(containsString("data-testid=\"loss-curve\""))
                .body(not(containsString("data-chart=\"loss\"")))
                .body(not(containsString("Task task1,"))).body(not(containsString("Task task2,")))
                .body(not(containsString("Task task3,")));
    }

    @Test
    void aRunWithoutLossCurvesHasNoTrainingLossSection() {
        String run = runWith("{\"metrics\": {\"accuracy\": 0.9}}");
        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/runs/" + run).then().statusCode(200)
                .body(not(containsString("Training loss"))).body(not(containsString("/ui/charts.js")));
    }

    @Test
    void theCurveIsReadFromTheMetricsAsStored() {
        ObjectMapper json = new ObjectMapper();
        assertThat(LossCurve.lossCurve("{\"loss_curve\": [1, 0.5, 0.25]}", json)).containsExactly(1.0, 0.5, 0.25);
        assertThat(LossCurve.lossCurve("{\"loss_curve\": []}", json)).isEmpty();
        assertThat(LossCurve.lossCurve("{\"loss_curve\": [1, null]}", json)).isEmpty();
        assertThat(LossCurve.lossCurve("not json", json)).isEmpty();
        assertThat(LossCurve.lossCurve(null, json)).isEmpty();
    }
}
