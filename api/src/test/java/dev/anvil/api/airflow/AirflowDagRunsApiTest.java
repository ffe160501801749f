package dev.anvil.api.airflow;

import static dev.anvil.api.airflow.AirflowFixtures.admin;
import static dev.anvil.api.airflow.AirflowFixtures.as;
import static dev.anvil.api.airflow.AirflowFixtures.awaitTerminal;
import static dev.anvil.api.airflow.AirflowFixtures.json;
import static dev.anvil.api.airflow.AirflowSchema.conforms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DAG runs: trigger, read, list (per DAG, ~, and the batch list), PATCH, DELETE and clear. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class AirflowDagRunsApiTest {

    private static boolean prepared;

    /** Once per class, from @BeforeEach: the application is not up yet in a static @BeforeAll. */
    static void pipelines() {
        if (prepared) {
            return;
        }
        prepared = true;
        AirflowFixtures.registerSleeper("afrun-a");
        AirflowFixtures.registerSleeper("afrun-b");
    }

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
        pipelines();
    }

    private static Map<String, Object> trigger(Object logicalDate, Map<String, Object> more) {
        Map<String, Object> body = new HashMap<>(more);
        body.put("logical_date", logicalDate);
        return body;
    }

    @Test
    void triggerAnswers200WithTheRunAndItCanBeReadBack() {
        JsonPath run = conforms(json(TestTokens.SUBMITTER)
                .body(trigger(null, Map.of("conf", Map.of("secs", 0.2), "note", "from a test")))
                .post("/api/v2/dags/afrun-a/dagRuns").then().statusCode(200), "DAGRun").extract().jsonPath();
        String id = run.getString("dag_run_id");
        assertThat(run.getString("dag_id")).isEqualTo("afrun-a");
        assertThat(run.getString("logical_date")).isNull();
        assertThat(run.getString("run_after")).isNotNull();
        assertThat(run.getString("run_type")).isEqualTo("manual");
        assertThat(run.getString("triggered_by")).isEqualTo("rest_api");
        assertThat(run.getString("triggering_user_name")).isEqualTo("demo-submitter");
        assertThat(run.getString("state")).isIn("queued", "running");
        assertThat(run.getDouble("conf.secs")).isEqualTo(0.2);
        assertThat(run.getInt("dag_versions[0].version_number")).isEqualTo(1);
        assertThat(run.getString("note")).isEqualTo("from a test");
        assertThat(awaitTerminal("afrun-a", id)).isEqualTo("success");
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afrun-a/dagRuns/" + id).then().statusCode(200), "DAGRun")
                .body("state", equalTo("success")).body("end_date", notNullValue()).body("duration", notNullValue());
        // the same run through Anvil's own API
        admin().get("/api/runs/" + id).then().statusCode(200).body("run.status", equalTo("success"));
        as(TestTokens.VIEWER).get("/api/v2/dags/afrun-b/dagRuns/" + id).then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/v2/dags/~/dagRuns/" + id).then().statusCode(200);
    }

    @Test
    void triggerRefusesWhatAirflowRefuses() {
        conforms(json(TestTokens.SUBMITTER).body(Map.of("conf", Map.of())).post("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(422), "HTTPValidationError").body("detail[0].type", equalTo("missing"))
                .body("detail[0].loc", equalTo(List.of("body", "logical_date")));
        json(TestTokens.SUBMITTER).body(trigger(null, Map.of("colour", "red"))).post("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(422).body("detail.type", hasItem("extra_forbidden"));
        json(TestTokens.SUBMITTER).body(trigger("yesterday", Map.of())).post("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(422);
        json(TestTokens.SUBMITTER).body(trigger(null, Map.of("conf", List.of(1)))).post("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(422);
        json(TestTokens.SUBMITTER).body(trigger(null, Map.of())).post("/api/v2/dags/no-such-dag/dagRuns")
                .then().statusCode(404);
        json(TestTokens.VIEWER).body(trigger(null, Map.of())).post("/api/v2/dags/afrun-a/dagRuns").then().statusCode(403);
        as(TestTokens.SUBMITTER).contentType("application/json").body("{not json").post("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(422);
        String id = "afrun-fixed-id-" + System.nanoTime();
        json(TestTokens.SUBMITTER).body(trigger("2026-01-01T00:00:00Z", Map.of("dag_run_id", id)))
                .post("/api/v2/dags/afrun-a/dagRuns").then().statusCode(200).body("dag_run_id", equalTo(id))
                .body("logical_date", equalTo("2026-01-01T00:00:00Z")).body("run_type", equalTo("manual"));
        as(TestTokens.VIEWER).queryParam("logical_date_gte", "2026-01-01T00:00:00Z").get("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(200).body("dag_runs.dag_run_id", contains(id));
        conforms(json(TestTokens.SUBMITTER).body(trigger(null, Map.of("dag_run_id", id))).post("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(409), "HTTPExceptionResponse");
        awaitTerminal("afrun-a", id);
    }

    @Test
    void listsFilterPageAndOrder() {
        String first = json(TestTokens.SUBMITTER).body(trigger(null, Map.of())).post("/api/v2/dags/afrun-b/dagRuns")
                .then().statusCode(200).extract().path("dag_run_id");
        String failing = json(TestTokens.SUBMITTER).body(trigger(null, Map.of("conf", Map.of("secs", -1))))
                .post("/api/v2/dags/afrun-b/dagRuns").then().statusCode(200).extract().path("dag_run_id");
        awaitTerminal("afrun-b", first);
        assertThat(awaitTerminal("afrun-b", failing)).isEqualTo("failed");

        JsonPath list = conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afrun-b/dagRuns").then().statusCode(200),
                "DAGRunCollection").extract().jsonPath();
        assertThat(list.getList("dag_runs.dag_run_id")).contains(first, failing);
        assertThat(list.getList("dag_runs.dag_id")).containsOnly("afrun-b");
        int total = list.getInt("total_entries");
        as(TestTokens.VIEWER).queryParam("state", "failed").get("/api/v2/dags/afrun-b/dagRuns").then()
                .body("dag_runs.dag_run_id", hasItem(failing)).body("dag_runs.state", everyItem(equalTo("failed")));
        as(TestTokens.VIEWER).queryParam("state", "cancelled").get("/api/v2/dags/afrun-b/dagRuns").then().statusCode(422);
        as(TestTokens.VIEWER).queryParams(Map.of("limit", 1, "order_by", "-queued_at")).get("/api/v2/dags/afrun-b/dagRuns")
                .then().body("dag_runs", hasSize(1)).body("dag_runs[0].dag_run_id", equalTo(failing))
                .body("total_entries", equalTo(total));
        as(TestTokens.VIEWER).queryParams(Map.of("run_id_pattern", failing)).get("/api/v2/dags/afrun-b/dagRuns")
                .then().body("dag_runs.dag_run_id", contains(failing));
        as(TestTokens.VIEWER).queryParams(Map.of("start_date_gte", "2999-01-01T00:00:00Z")).get("/api/v2/dags/afrun-b/dagRuns")
                .then().body("total_entries", equalTo(0));
        as(TestTokens.VIEWER).queryParams(Map.of("start_date_gte", "soon")).get("/api/v2/dags/afrun-b/dagRuns")
                .then().statusCode(422);
        as(TestTokens.VIEWER).queryParam("run_type", "manual").get("/api/v2/dags/~/dagRuns").then().statusCode(200)
                .body("dag_runs.dag_id", hasItem("afrun-b")).body("dag_runs.run_type", everyItem(equalTo("manual")));
        as(TestTokens.VIEWER).get("/api/v2/dags/no-such-dag/dagRuns").then().statusCode(404);

        JsonPath batch = conforms(json(TestTokens.VIEWER)
                .body(Map.of("dag_ids", List.of("afrun-b"), "states", List.of("failed"), "page_limit", 10))
                .post("/api/v2/dags/~/dagRuns/list").then().statusCode(200), "DAGRunCollection").extract().jsonPath();
        assertThat(batch.getList("dag_runs.dag_run_id")).contains(failing).doesNotContain(first);
        json(TestTokens.VIEWER).body(Map.of("page_offset", 0, "page_limit", 1)).post("/api/v2/dags/~/dagRuns/list")
                .then().statusCode(200).body("dag_runs", hasSize(1));
        json(TestTokens.VIEWER).body(Map.of("limit", 1)).post("/api/v2/dags/~/dagRuns/list").then().statusCode(422);
        json(TestTokens.VIEWER).body(Map.of()).post("/api/v2/dags/afrun-b/dagRuns/list").then().statusCode(400);
    }

    @Test
    void patchFailedCancelsARunningRunAndQueuedRetriesIt() {
        String id = json(TestTokens.SUBMITTER).body(trigger(null, Map.of("conf", Map.of("secs", 60))))
                .post("/api/v2/dags/afrun-a/dagRuns").then().statusCode(200).extract().path("dag_run_id");
        await().atMost(Duration.ofSeconds(30)).until(() -> as(TestTokens.VIEWER)
                .get("/api/v2/dags/afrun-a/dagRuns/" + id + "/taskInstances/nap").then().extract().path("state"),
                s -> "running".equals(s));
        conforms(json(TestTokens.SUBMITTER).body(Map.of("state", "running")).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(422), "HTTPValidationError");
        json(TestTokens.SUBMITTER).body(Map.of("state", "failed", "extra", 1)).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(422);
        json(TestTokens.VIEWER).body(Map.of("state", "failed")).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(403);
        conforms(json(TestTokens.SUBMITTER).body(Map.of("state", "failed")).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(200), "DAGRun");
        assertThat(awaitTerminal("afrun-a", id)).isEqualTo("failed");
        admin().get("/api/runs/" + id).then().body("run.status", equalTo("cancelled"));
        json(TestTokens.SUBMITTER).body(Map.of("state", "success")).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(400);
        json(TestTokens.SUBMITTER).body(Map.of("note", "looked at it")).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(200).body("note", equalTo("looked at it")).body("state", equalTo("failed"));
        as(TestTokens.VIEWER).get("/api/v2/dags/afrun-a/dagRuns/" + id).then().body("note", equalTo("looked at it"));
        Map<String, Object> clearNote = new HashMap<>();
        clearNote.put("note", null);
        json(TestTokens.SUBMITTER).body(clearNote).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(200).body("note", nullValue());
        json(TestTokens.SUBMITTER).body(Map.of("note", "x".repeat(1001))).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(422);
        json(TestTokens.SUBMITTER).body(Map.of("state", "failed")).patch("/api/v2/dags/afrun-a/dagRuns/nope")
                .then().statusCode(404);

        // clear: a dry run (the default) lists what would run again and starts nothing
        JsonPath dry = conforms(json(TestTokens.SUBMITTER).body(Map.of()).post("/api/v2/dags/afrun-a/dagRuns/" + id + "/clear")
                .then().statusCode(200), "TaskInstanceCollection").extract().jsonPath();
        assertThat(dry.getList("task_instances.task_id")).containsExactly("nap", "report");
        as(TestTokens.VIEWER).get("/api/v2/dags/afrun-a/dagRuns/" + id).then().body("state", equalTo("failed"));
        json(TestTokens.SUBMITTER).body(Map.of("dry_run", false, "bogus", true))
                .post("/api/v2/dags/afrun-a/dagRuns/" + id + "/clear").then().statusCode(422);
        json(TestTokens.VIEWER).body(Map.of("dry_run", false)).post("/api/v2/dags/afrun-a/dagRuns/" + id + "/clear")
                .then().statusCode(403);
        // the run keeps its conf (60 s): cancel the retry once it runs again
        conforms(json(TestTokens.SUBMITTER).body(Map.of("dry_run", false))
                .post("/api/v2/dags/afrun-a/dagRuns/" + id + "/clear").then().statusCode(200), "DAGRun")
                .body("state", not(equalTo("failed")));
        await().atMost(Duration.ofSeconds(30)).until(() -> as(TestTokens.VIEWER)
                .get("/api/v2/dags/afrun-a/dagRuns/" + id + "/taskInstances/nap").then().extract().<Integer>path("try_number"),
                n -> n != null && n >= 2);
        json(TestTokens.SUBMITTER).body(Map.of("state", "failed")).patch("/api/v2/dags/afrun-a/dagRuns/" + id)
                .then().statusCode(200);
        awaitTerminal("afrun-a", id);
    }

    @Test
    void deleteIsRefusedBecauseAnvilKeepsRunsAndUnknownRunsAre404() {
        String id = json(TestTokens.SUBMITTER).body(trigger(null, Map.of())).post("/api/v2/dags/afrun-a/dagRuns")
                .then().statusCode(200).extract().path("dag_run_id");
        awaitTerminal("afrun-a", id);
        conforms(as(TestTokens.ADMIN).delete("/api/v2/dags/afrun-a/dagRuns/" + id).then().statusCode(400),
                "HTTPExceptionResponse");
        as(TestTokens.ADMIN).delete("/api/v2/dags/afrun-a/dagRuns/nope").then().statusCode(404);
        as(TestTokens.SUBMITTER).delete("/api/v2/dags/afrun-a/dagRuns/" + id).then().statusCode(403);
        as(TestTokens.VIEWER).get("/api/v2/dags/afrun-a/dagRuns/" + id).then().statusCode(200);
    }
}
