package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRunStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** JSON columns come out of the REST API as JSON values, not strings holding JSON (CHANGELOG.md). */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class JsonColumnsApiTest {
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;

    @Test
    void aRunsParamsAndItsTasksParametersAndMetricsAreObjects() {
        String run = "json-columns-" + UUID.randomUUID();
        runs.create(run, "json-columns", "{\"epochs\": 3, \"note\": \"<b>\\\"quoted\\\"</b>\"}", "alice");
        long task = taskRuns.start(run, "train", 1, "noop", "{\"lr\": 0.1}");
        taskRuns.finish(task, "success", "{\"accuracy\": 0.97, \"model\": {\"sha256\": \"abc\"}}", null);
        long open = taskRuns.start(run, "eval", 1, "noop", "{}");

        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + run).then().statusCode(200)
                .body("run.paramsJson.epochs", equalTo(3))
                .body("run.paramsJson.note", equalTo("<b>\"quoted\"</b>"))
                .body("tasks.find { it.taskId == 'train' }.parametersJson.lr", equalTo(0.1f))
                .body("tasks.find { it.taskId == 'train' }.metricsJson.accuracy", equalTo(0.97f))
                .body("tasks.find { it.taskId == 'train' }.metricsJson.model.sha256", equalTo("abc"))
                .body("tasks.find { it.taskId == 'eval' }.metricsJson", nullValue());
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs?pipeline=json-columns").then().statusCode(200)
                .body("find { it.id == '" + run + "' }.paramsJson.epochs", equalTo(3))
                .body("find { it.id == '" + run + "' }.waiting", nullValue());
        taskRuns.finish(open, "success", null, null);
    }
}
