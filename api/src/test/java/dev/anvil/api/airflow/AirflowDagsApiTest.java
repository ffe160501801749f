package dev.anvil.api.airflow;

import static dev.anvil.api.airflow.AirflowFixtures.admin;
import static dev.anvil.api.airflow.AirflowFixtures.as;
import static dev.anvil.api.airflow.AirflowFixtures.json;
import static dev.anvil.api.airflow.AirflowSchema.conforms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DAGs: Anvil's pipelines through GET/PATCH /api/v2/dags, with Airflow's filters, paging and shapes. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class AirflowDagsApiTest {

    private static boolean prepared;

    /** Once per class, from @BeforeEach: the application is not up yet in a static @BeforeAll. */
    static void pipelines() {
        if (prepared) {
            return;
        }
        prepared = true;
        AirflowFixtures.registerSleeper("afdag-alpha");
        AirflowFixtures.registerSleeper("afdag-beta");
        AirflowFixtures.register("afdag-gamma", """
                description: a scheduled one
                schedule: "@daily"
                max_active_runs: 3
                default_args: {retries: 2, retry_delay: 90s}
                tasks:
                  extract:   {operator: noop}
                  transform: {operator: noop, upstream: [extract]}
                  load:      {operator: noop, upstream: [transform], trigger_rule: all_done}
                """);
    }

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
        pipelines();
    }

    @Test
    void listConformsAndPagesWithTotalEntries() {
        JsonPath all = conforms(as(TestTokens.VIEWER).queryParam("dag_id_pattern", "afdag-%").get("/api/v2/dags")
                .then().statusCode(200), "DAGCollection").extract().jsonPath();
        assertThat(all.getList("dags.dag_id")).containsExactly("afdag-alpha", "afdag-beta", "afdag-gamma");
        assertThat(all.getInt("total_entries")).isEqualTo(3);
        as(TestTokens.VIEWER).queryParams(Map.of("dag_id_pattern", "afdag-%", "limit", 1, "offset", 1)).get("/api/v2/dags")
                .then().statusCode(200).body("dags.dag_id", contains("afdag-beta")).body("total_entries", equalTo(3));
        as(TestTokens.VIEWER).queryParams(Map.of("dag_id_pattern", "afdag-%", "order_by", "-dag_id")).get("/api/v2/dags")
                .then().body("dags.dag_id", contains("afdag-gamma", "afdag-beta", "afdag-alpha"));
        as(TestTokens.VIEWER).queryParam("dag_id_pattern", "AFDAG-_ETA").get("/api/v2/dags")
                .then().body("dags.dag_id", contains("afdag-beta"));
        as(TestTokens.VIEWER).queryParams(Map.of("dag_id_pattern", "afdag-%", "tags", "prod")).get("/api/v2/dags")
                .then().body("dags", hasSize(0)).body("total_entries", equalTo(0));
        JsonPath gamma = as(TestTokens.VIEWER).queryParam("dag_id_pattern", "afdag-gamma").get("/api/v2/dags")
                .then().extract().jsonPath();
        assertThat(gamma.getString("dags[0].timetable_summary")).isEqualTo("@daily");
        assertThat(gamma.getString("dags[0].next_dagrun_run_after")).isNotNull();
        assertThat(gamma.getList("dags[0].owners")).containsExactly("demo-admin");
        assertThat(gamma.getList("dags[0].tags")).isEmpty();
    }

    @Test
    void badPagingIs422AndAnUnknownOrderIs400() {
        conforms(as(TestTokens.VIEWER).queryParam("limit", -1).get("/api/v2/dags").then().statusCode(422),
                "HTTPValidationError").body("detail[0].loc", equalTo(List.of("query", "limit")));
        as(TestTokens.VIEWER).queryParam("offset", "x").get("/api/v2/dags").then().statusCode(422);
        as(TestTokens.VIEWER).queryParam("paused", "maybe").get("/api/v2/dags").then().statusCode(422);
        conforms(as(TestTokens.VIEWER).queryParam("order_by", "colour").get("/api/v2/dags").then().statusCode(400),
                "HTTPExceptionResponse");
    }

    @Test
    void getAndDetailsAndTasksConform() {
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afdag-gamma").then().statusCode(200), "DAG")
                .body("dag_id", equalTo("afdag-gamma")).body("description", equalTo("a scheduled one"))
                .body("is_paused", equalTo(false)).body("has_import_errors", equalTo(false))
                .body("max_active_runs", equalTo(3));
        as(TestTokens.VIEWER).get("/api/v2/dags/afdag-alpha").then().statusCode(200)
                .body("max_active_runs", nullValue()); // no bound in its spec
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afdag-gamma/details").then().statusCode(200), "DAGDetails")
                .body("latest_dag_version.version_number", equalTo(1)).body("timezone", equalTo("UTC"))
                .body("default_args.retries", equalTo(2));
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afdag-gamma/tasks").then().statusCode(200), "TaskCollection")
                .body("tasks.task_id", contains("extract", "load", "transform")).body("total_entries", equalTo(3));
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afdag-gamma/tasks/transform").then().statusCode(200), "Task")
                .body("downstream_task_ids", contains("load")).body("retries", equalTo(2))
                .body("retry_delay.seconds", equalTo(90)).body("operator_name", equalTo("noop"));
        as(TestTokens.VIEWER).get("/api/v2/dags/afdag-gamma/tasks/nope").then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/v2/dags/nope/details").then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/v2/dags/nope/tasks").then().statusCode(404);
    }

    @Test
    void patchPausesTheScheduleAsAnvilsPauseDoes() {
        conforms(json(TestTokens.SUBMITTER).body(Map.of("is_paused", true)).patch("/api/v2/dags/afdag-gamma")
                .then().statusCode(200), "DAG").body("is_paused", equalTo(true))
                .body("next_dagrun_run_after", nullValue());
        admin().get("/api/pipelines/afdag-gamma").then().body("paused", equalTo(true));
        as(TestTokens.VIEWER).queryParams(Map.of("paused", true, "dag_id_pattern", "afdag-%")).get("/api/v2/dags")
                .then().body("dags.dag_id", contains("afdag-gamma"));
        as(TestTokens.VIEWER).queryParams(Map.of("paused", false, "dag_id_pattern", "afdag-%")).get("/api/v2/dags")
                .then().body("dags.dag_id", not(hasItem("afdag-gamma")));
        json(TestTokens.SUBMITTER).queryParam("update_mask", "is_paused").body(Map.of("is_paused", false))
                .patch("/api/v2/dags/afdag-gamma").then().statusCode(200).body("is_paused", equalTo(false));
        admin().get("/api/pipelines/afdag-gamma").then().body("paused", equalTo(false));
    }

    @Test
    void patchRefusesExtraKeysMissingKeysRolesAndUnknownDags() {
        conforms(json(TestTokens.ADMIN).body(Map.of("is_paused", true, "x", 1)).patch("/api/v2/dags/afdag-alpha")
                .then().statusCode(422), "HTTPValidationError").body("detail[0].type", equalTo("extra_forbidden"))
                .body("detail[0].loc", equalTo(List.of("body", "x")));
        json(TestTokens.ADMIN).body(Map.of()).patch("/api/v2/dags/afdag-alpha").then().statusCode(422)
                .body("detail[0].type", equalTo("missing"));
        json(TestTokens.ADMIN).body(Map.of("is_paused", "yes")).patch("/api/v2/dags/afdag-alpha").then().statusCode(422);
        json(TestTokens.VIEWER).body(Map.of("is_paused", true)).patch("/api/v2/dags/afdag-alpha").then().statusCode(403);
        json(TestTokens.ADMIN).body(Map.of("is_paused", true)).patch("/api/v2/dags/no-such-dag").then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/v2/dags/afdag-alpha").then().body("is_paused", equalTo(false));
    }

    @Test
    void importErrorsAreAnEmptyCorrectlyShapedListWhenEverySpecLoads() {
        conforms(as(TestTokens.VIEWER).get("/api/v2/importErrors").then().statusCode(200), "ImportErrorCollection")
                .body("import_errors", hasSize(0)).body("total_entries", equalTo(0));
        as(TestTokens.VIEWER).get("/api/v2/importErrors/12345").then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/v2/importErrors/x").then().statusCode(422);
    }
}
