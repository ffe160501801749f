package dev.anvil.api.airflow;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an Airflow user's script does, step by step and with nothing Anvil-specific but the credentials: get a
 * token, list the DAGs, trigger one with conf, poll the run until it ends, read a task's log (docs/airflow-api.md
 * shows the same calls with curl).
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class AirflowUserScriptTest {

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
        AirflowFixtures.registerSleeper("af-script");
    }

    @Test
    void listTriggerWithConfPollAndReadALog() throws Exception {
        String token = given().contentType("application/json")
                .body(Map.of("username", "demo-submitter", "password", TestTokens.SUBMITTER))
                .post("/auth/token").then().statusCode(201).extract().path("access_token");
        RequestSpecification api = given().header("Authorization", "Bearer " + token).contentType("application/json");

        List<String> dags = given().spec(api).queryParam("limit", 100).get("/api/v2/dags").then().statusCode(200)
                .extract().path("dags.dag_id");
        assertThat(dags).contains("af-script");

        Map<String, Object> body = new HashMap<>();
        body.put("logical_date", null);
        body.put("conf", Map.of("secs", 0.3));
        String runId = given().spec(api).body(body).post("/api/v2/dags/af-script/dagRuns").then().statusCode(200)
                .extract().path("dag_run_id");

        String state = null;
        for (int i = 0; i < 300 && !List.of("success", "failed").contains(String.valueOf(state)); i++) {
            Thread.sleep(300);
            state = given().spec(api).get("/api/v2/dags/af-script/dagRuns/" + runId).then().statusCode(200)
                    .extract().path("state");
        }
        assertThat(state).isEqualTo("success");

        JsonPath tis = given().spec(api).get("/api/v2/dags/af-script/dagRuns/" + runId + "/taskInstances").then()
                .statusCode(200).extract().jsonPath();
        int tryNumber = tis.getInt("task_instances.find { it.task_id == 'nap' }.try_number");
        JsonPath log = given().spec(api).get("/api/v2/dags/af-script/dagRuns/" + runId + "/taskInstances/nap/logs/"
                + tryNumber).then().statusCode(200).extract().jsonPath();
        List<String> events = log.getList("content.event");
        // the attempt's captured log (the worker's own lines), not lines made up from its records
        assertThat(String.join("\n", events)).contains("try " + tryNumber + " of task nap started (operator sleep")
                .contains("ended success");
        assertThat(log.getList("content.timestamp")).doesNotContainNull();
    }
}
