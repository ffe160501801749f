package dev.anvil.api.airflow;

import static dev.anvil.api.airflow.AirflowFixtures.as;
import static dev.anvil.api.airflow.AirflowFixtures.awaitTerminal;
import static dev.anvil.api.airflow.AirflowFixtures.json;
import static dev.anvil.api.airflow.AirflowSchema.conforms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Task instances (each task's newest attempt), their logs per try and their outputs as XCom entries. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class AirflowTaskInstancesApiTest {
    private static String good;
    private static String bad;

    private static boolean prepared;

    /** Once per class, from @BeforeEach: the application is not up yet in a static @BeforeAll. */
    static void runs() {
        if (prepared) {
            return;
        }
        prepared = true;
        AirflowFixtures.registerSleeper("afti");
        good = start(Map.of("secs", 0.1));
        bad = start(Map.of("secs", -1));
        awaitTerminal("afti", good);
        awaitTerminal("afti", bad);
    }

    private static String start(Map<String, Object> conf) {
        Map<String, Object> body = new HashMap<>();
        body.put("logical_date", null);
        body.put("conf", conf);
        return json(TestTokens.SUBMITTER).body(body).post("/api/v2/dags/afti/dagRuns").then().statusCode(200)
                .extract().path("dag_run_id");
    }

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
        runs();
    }

    @Test
    void listAndGetConformWithAnvilStatesMappedAndTriesCounted() {
        JsonPath ok = conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances")
                .then().statusCode(200), "TaskInstanceCollection").extract().jsonPath();
        assertThat(ok.getList("task_instances.task_id")).containsExactlyInAnyOrder("nap", "report");
        assertThat(ok.getList("task_instances.state")).containsOnly("success");
        assertThat(ok.getList("task_instances.try_number")).containsOnly(1);
        JsonPath failed = conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + bad + "/taskInstances")
                .then().statusCode(200), "TaskInstanceCollection").extract().jsonPath();
        Map<String, Object> states = new HashMap<>();
        for (int i = 0; i < failed.getList("task_instances").size(); i++) {
            states.put(failed.getString("task_instances[" + i + "].task_id"), failed.get("task_instances[" + i + "].state"));
        }
        assertThat(states.get("nap")).isEqualTo("failed");
        assertThat(states.get("report")).isIn("upstream_failed", null);
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap").then().statusCode(200),
                "TaskInstance").body("operator", equalTo("sleep")).body("map_index", equalTo(-1))
                .body("rendered_fields.seconds", equalTo(0.1f));
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nope").then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/nope/taskInstances").then().statusCode(404);
        // filters, paging, and ~ for every run
        as(TestTokens.VIEWER).queryParam("state", "failed").get("/api/v2/dags/afti/dagRuns/~/taskInstances").then()
                .statusCode(200).body("task_instances.dag_run_id", hasItem(bad))
                .body("task_instances.state", everyItem(equalTo("failed")));
        as(TestTokens.VIEWER).queryParam("state", "exploded").get("/api/v2/dags/afti/dagRuns/~/taskInstances")
                .then().statusCode(422);
        as(TestTokens.VIEWER).queryParams(Map.of("task_id", "report", "limit", 1)).get("/api/v2/dags/~/dagRuns/~/taskInstances")
                .then().statusCode(200).body("task_instances", hasSize(1)).body("task_instances[0].task_id", equalTo("report"));
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances").then()
                .body("task_instances.dag_version.version_number", everyItem(equalTo(1)));
    }

    @Test
    void aTrysLogIsTheLogItsWorkerCaptured() {
        JsonPath log = conforms(as(TestTokens.VIEWER)
                .get("/api/v2/dags/afti/dagRuns/" + bad + "/taskInstances/nap/logs/1").then().statusCode(200), "Log")
                .body("continuation_token", nullValue()).extract().jsonPath();
        List<String> events = log.getList("content.event");
        assertThat(events.get(0)).contains("try 1 of task nap started (operator sleep");
        assertThat(String.join("\n", events)).contains("sleep needs with.seconds").contains("ended failed")
                .doesNotContain("has not captured");
        assertThat(log.getList("content.level")).contains("info", "error");
        String ndjson = as(TestTokens.VIEWER).accept("application/x-ndjson")
                .get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/logs/1").then().statusCode(200)
                .contentType("application/x-ndjson").extract().asString();
        for (String line : ndjson.strip().split("\n")) {
            AirflowSchema.assertConforms("StructuredLogMessage", line);
        }
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/logs/7").then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/logs/-1").then().statusCode(422);
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nope/logs/1").then().statusCode(404);
        as("garbage").get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/logs/1").then().statusCode(403);
    }

    @Test
    void aLogReadGoesOnFromItsContinuationTokenAndFullContentReadsItWhole() {
        String base = "/api/v2/dags/afti/dagRuns/" + bad + "/taskInstances/nap/logs/1";
        List<String> all = conforms(as(TestTokens.VIEWER).get(base).then().statusCode(200), "Log")
                .body("continuation_token", nullValue()).extract().jsonPath().getList("content.event");
        // the byte offset just past the captured log's first line: a token made there continues with the second
        String ndjson = as(TestTokens.VIEWER).queryParam("format", "ndjson").get("/api/runs/" + bad + "/tasks/nap/logs")
                .then().statusCode(200).extract().asString();
        long firstLine = ndjson.substring(0, ndjson.indexOf('\n') + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        String afterFirst = new AirflowLogToken(bad, "nap", 1, true, firstLine).encode();
        List<String> rest = conforms(as(TestTokens.VIEWER).queryParam("token", afterFirst).get(base).then().statusCode(200), "Log")
                .body("continuation_token", nullValue()).extract().jsonPath().getList("content.event");
        assertThat(rest).isEqualTo(all.subList(1, all.size()));
        String atEnd = new AirflowLogToken(bad, "nap", 1, true, ndjson.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).encode();
        conforms(as(TestTokens.VIEWER).queryParam("token", atEnd).get(base).then().statusCode(200), "Log")
                .body("content", hasSize(0)).body("continuation_token", nullValue());
        // full_content: the whole log whatever the token says
        assertThat(conforms(as(TestTokens.VIEWER).queryParams(Map.of("token", atEnd, "full_content", true)).get(base)
                .then().statusCode(200), "Log").extract().jsonPath().<String>getList("content.event")).isEqualTo(all);

        // tokens that are not this log's, or not ours, are refused as Airflow refuses a bad one
        String otherTry = new AirflowLogToken(bad, "nap", 2, true, 0).encode();
        String otherRun = new AirflowLogToken(good, "nap", 1, true, 0).encode();
        String negative = java.util.Base64.getUrlEncoder().encodeToString(("{\"run\":\"" + bad
                + "\",\"task\":\"nap\",\"try\":1,\"source\":\"captured\",\"pos\":-5}").getBytes());
        for (String forged : List.of(otherTry, otherRun, negative, "not a token", "e30", "x".repeat(3000))) {
            conforms(as(TestTokens.VIEWER).queryParam("token", forged).get(base).then().statusCode(400),
                    "HTTPExceptionResponse").body("detail", containsString("Bad Signature"));
        }
        as(TestTokens.VIEWER).queryParam("full_content", "maybe").get(base).then().statusCode(422);
    }

    @Test
    void aRunningTrysLogComesWithATokenThatPicksUpWhereTheReadEnded() {
        String running = start(Map.of("secs", 6));
        String base = "/api/v2/dags/afti/dagRuns/" + running + "/taskInstances/nap/logs/1";
        await("nap of " + running + " running").atMost(java.time.Duration.ofSeconds(60))
                .pollInterval(java.time.Duration.ofMillis(200))
                .until(() -> as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + running + "/taskInstances/nap")
                        .then().extract().<String>path("state"), "running"::equals);
        JsonPath first = conforms(as(TestTokens.VIEWER).get(base).then().statusCode(200), "Log").extract().jsonPath();
        String token = first.getString("continuation_token");
        assertThat(token).as("a running try's log may grow: the answer says where to go on from").isNotBlank();
        List<String> firstEvents = first.getList("content.event");

        awaitTerminal("afti", running);
        JsonPath next = conforms(as(TestTokens.VIEWER).queryParam("token", token).get(base).then().statusCode(200), "Log")
                .body("continuation_token", nullValue()).extract().jsonPath();
        List<String> nextEvents = next.getList("content.event");
        assertThat(String.join("\n", nextEvents)).contains("ended success");
        List<String> whole = as(TestTokens.VIEWER).get(base).then().extract().jsonPath().getList("content.event");
        if (!firstEvents.isEmpty() && !firstEvents.get(0).equals(AirflowLogs.NOT_CAPTURED)) {
            // both reads came from the captured log: together they are the whole log, no line twice
            List<String> joined = new java.util.ArrayList<>(firstEvents);
            joined.addAll(nextEvents);
            assertThat(joined).isEqualTo(whole);
        }
    }

    @Test
    void aTasksOutputsAreItsXcomEntries() {
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/xcomEntries")
                .then().statusCode(200), "XComCollection").body("xcom_entries.key", contains("slept_seconds"))
                .body("total_entries", equalTo(1));
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/xcomEntries/slept_seconds")
                .then().statusCode(200), "XComWithValue").body("value", equalTo(0.1f));
        as(TestTokens.VIEWER).queryParam("stringify", true)
                .get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/xcomEntries/slept_seconds")
                .then().statusCode(200).body("value", equalTo("0.1"));
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + good + "/taskInstances/nap/xcomEntries/nope").then().statusCode(404);
        // a failed task has no outputs; ~ lists every run's
        as(TestTokens.VIEWER).get("/api/v2/dags/afti/dagRuns/" + bad + "/taskInstances/nap/xcomEntries").then()
                .statusCode(200).body("total_entries", equalTo(0));
        as(TestTokens.VIEWER).queryParam("xcom_key_pattern", "slept%")
                .get("/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries").then().statusCode(200)
                .body("xcom_entries.run_id", hasItem(good));
    }

    @Test
    void aTrysLogIsServedFromAnOffsetAsTextOrNdjson() {
        String path = "/api/runs/" + bad + "/tasks/nap/logs";
        io.restassured.response.Response whole = as(TestTokens.VIEWER).queryParam("format", "ndjson").get(path);
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.contentType()).startsWith("application/x-ndjson");
        assertThat(whole.header("X-Log-Complete")).isEqualTo("true");
        assertThat(whole.header("X-Log-Try")).isEqualTo("1");
        String body = whole.asString();
        assertThat(body).contains("\"event\":\"try 1 of task nap started").contains("sleep needs with.seconds");
        long end = Long.parseLong(whole.header("X-Log-Offset"));
        assertThat(end).isEqualTo(body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);

        // from the first line's end on: the rest, and nothing once at the end
        int firstLine = body.indexOf('\n') + 1;
        String rest = as(TestTokens.VIEWER).queryParams("format", "ndjson", "offset", firstLine, "try", 1).get(path)
                .then().statusCode(200).extract().asString();
        assertThat(body.substring(firstLine)).isEqualTo(rest);
        as(TestTokens.VIEWER).queryParam("offset", end).get(path).then().statusCode(200)
                .header("X-Log-Offset", String.valueOf(end)).body(equalTo(""));

        String text = as(TestTokens.VIEWER).get(path).then().statusCode(200).contentType("text/plain")
                .extract().asString();
        assertThat(text).containsPattern("(?m)^\\S+ INFO \\[anvil\\] try 1 of task nap started")
                .contains("ERROR [anvil] try 1 ended failed");

        as(TestTokens.VIEWER).queryParam("try", 2).get(path).then().statusCode(404);
        as(TestTokens.VIEWER).queryParam("offset", -1).get(path).then().statusCode(400);
        as(TestTokens.VIEWER).queryParam("format", "xml").get(path).then().statusCode(400);
        as(TestTokens.VIEWER).get("/api/runs/" + bad + "/tasks/nope/logs").then().statusCode(404);
        as(TestTokens.VIEWER).get("/api/runs/no-such-run/tasks/nap/logs").then().statusCode(404);
        io.restassured.RestAssured.given().get(path).then().statusCode(401);
    }
}
