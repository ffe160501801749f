package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.api.ApprovedCandidates;
import dev.anvil.api.BreakGlass;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the audit log through the running application: a state change that leaves no trace,
 * the application's own database role switching the append-only triggers off (it may not: the
 * migrations ran as the owner role), and a row rewritten with SQL by someone who can (the owner).
 * Each change below must leave an audit row in the caller's name, and GET /api/audit/verify must
 * name a rewritten row.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class AuditLogTamperTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Inject AgroalDataSource db;
    @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url;
    @ConfigProperty(name = "anvil.db.owner-user") String ownerUser;
    @ConfigProperty(name = "anvil.db.owner-password") String ownerPassword;

    @Test
    void theApplicationsOwnDatabaseRoleCannotSwitchTheTriggersOffOrChangeRows() throws Exception {
        asAdmin().contentType("application/json").body(Map.of("principal", "role-bot", "roles", List.of("viewer")))
                .post("/api/tokens").then().statusCode(201);
        for (String attack : List.of("ALTER TABLE audit_log DISABLE TRIGGER ALL",
                "UPDATE audit_log SET actor = 'mallory' WHERE subject = 'principal:role-bot'",
                "DELETE FROM audit_log WHERE subject = 'principal:role-bot'",
                "TRUNCATE audit_log",
                "DROP TABLE audit_log")) {
            try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute(attack)).as(attack)
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState())
                                .as("%s: %s", attack, e.getMessage()).isEqualTo("42501"));
            }
        }
        assertThat(actions("principal:role-bot")).contains("demo-admin token.created");
        asAdmin().get("/api/audit/verify").then().statusCode(200).body("valid", equalTo(true));
    }

    @Test
    void tokenPipelineAndRunChangesAreAudited() {
        JsonPath token = asAdmin().contentType("application/json")
                .body(Map.of("principal", "audit-bot", "roles", List.of("submitter")))
                .post("/api/tokens").then().statusCode(201).extract().jsonPath();
        asAdmin().delete("/api/tokens/" + token.getString("id")).then().statusCode(200);
        assertThat(actions("principal:audit-bot")).contains("demo-admin token.created", "demo-admin token.revoked");

        String spec = """
                pipeline: audited
                schedule: "@daily"
                tasks:
                  wait: {operator: sleep, with: {seconds: 60}}
                """;
        asAdmin().contentType("application/yaml").body(spec.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/audited").then().statusCode(201);
        asAdmin().post("/api/pipelines/audited/pause").then().statusCode(200);
        asAdmin().post("/api/pipelines/audited/unpause").then().statusCode(200);
        asAdmin().contentType("application/json").body(Map.of("from", "2020-01-01T00:00:00Z", "to", "2020-01-01T00:00:00Z"))
                .post("/api/pipelines/audited/backfill").then().statusCode(202);
        asAdmin().post("/api/pipelines/audited/pause").then().statusCode(200);
        assertThat(actions("pipeline:audited")).contains("demo-admin pipeline.registered", "demo-admin pipeline.paused",
                "demo-admin pipeline.unpaused", "demo-admin pipeline.backfilled");

        String run = asAdmin().contentType("application/json").body("{}").post("/api/pipelines/audited/runs")
                .then().statusCode(201).extract().path("run");
        await("a task of " + run + " started").atMost(WAIT).until(
                () -> !asAdmin().get("/api/runs/" + run).then().extract().jsonPath().getList("tasks").isEmpty());
        asAdmin().post("/api/runs/" + run + "/cancel").then().statusCode(202);
        await("run " + run + " cancelled").atMost(WAIT).until(
                () -> asAdmin().get("/api/runs/" + run).then().extract().<String>path("run.status"), equalTo("cancelled"));
        asAdmin().contentType("application/json").body("{}").post("/api/runs/" + run + "/retry").then().statusCode(202);
        assertThat(actions("run:" + run)).contains("demo-admin run.started", "demo-admin run.cancelled", "demo-admin run.retried");
        asAdmin().post("/api/runs/" + run + "/cancel"); // do not leave a minute-long run behind
    }

    @Test
    void endpointCanaryAndRolloutChangesAreAudited() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = upload(model);
        // a candidate with the evidence a rollout needs: built, validated, gated and approved by a run
        String candidate = ApprovedCandidates.of("audit-candidate");
        asAdmin().contentType("application/json").body(BreakGlass.with(Map.of("model", "audited-ep", "artifact", stable)))
                .put("/api/endpoints/audited-ep").then().statusCode(201);
        asAdmin().contentType("application/json").body(Map.of("artifact", candidate, "weight", 0))
                .put("/api/endpoints/audited-ep/canary").then().statusCode(200);
        asAdmin().contentType("application/json").body(Map.of("weight", 10))
                .post("/api/endpoints/audited-ep/canary/weight").then().statusCode(200);
        asAdmin().delete("/api/endpoints/audited-ep/canary").then().statusCode(200);
        assertThat(actions("endpoint:audited-ep")).contains("demo-admin endpoint.created", "demo-admin endpoint.canary.set",
                "demo-admin endpoint.canary.weight_changed", "demo-admin endpoint.canary.removed");

        String rollout = asAdmin().contentType("application/json")
                .body(Map.of("endpoint", "audited-ep", "model", candidate, "interval", "1h"))
                .post("/api/rollouts").then().statusCode(201).extract().path("rollout");
        await("the canary at the first step").atMost(WAIT).until(
                () -> asAdmin().get("/api/endpoints/audited-ep").then().extract().<Integer>path("canary.weight"), equalTo(5));
        asAdmin().contentType("application/json").body(Map.of("reason", "look closer"))
                .post("/api/rollouts/" + rollout + "/pause").then().statusCode(200);
        asAdmin().contentType("application/json").body(Map.of())
                .post("/api/rollouts/" + rollout + "/resume").then().statusCode(200);
        asAdmin().contentType("application/json").body(Map.of("reason", "wrong model"))
                .post("/api/rollouts/" + rollout + "/abort").then().statusCode(200);
        assertThat(actions("rollout:" + rollout)).contains("demo-admin rollout.pause", "demo-admin rollout.resume",
                "demo-admin rollout.abort");
        await("rollout " + rollout + " aborted").atMost(WAIT).until(
                () -> asAdmin().get("/api/rollouts/" + rollout).then().extract().<String>path("rollout.state"), equalTo("aborted"));

        asAdmin().delete("/api/endpoints/audited-ep").then().statusCode(204);
        assertThat(actions("endpoint:audited-ep")).contains("demo-admin endpoint.deleted");
    }

    @Test
    void approvalDecisionsAreAudited() {
        String spec = """
                pipeline: audited-gate
                tasks:
                  approve: {operator: approval, with: {summary: "ship it?"}}
                """;
        asAdmin().contentType("application/yaml").body(spec.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/audited-gate").then().statusCode(201);
        String run = given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body("{}")
                .post("/api/pipelines/audited-gate/runs").then().statusCode(201).extract().path("run");
        String approval = await("the approval of " + run).atMost(WAIT).until(() -> asAdmin()
                .get("/api/approvals?state=pending").then().extract().jsonPath().<Map<String, Object>>getList("$")
                .stream().filter(a -> run.equals(a.get("run"))).map(a -> (String) a.get("id")).findFirst().orElse(null),
                id -> id != null);
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json")
                .body(Map.of("comment", "fine")).post("/api/approvals/" + approval + "/approve").then().statusCode(200);
        await("the decision in the audit log").atMost(WAIT).until(() -> actions("run:" + run),
                a -> a.contains("demo-reviewer approval.approve"));
        assertThat(actions("run:" + run)).contains("demo-submitter run.started");
    }

    @Test
    void verifyHoldsAfterChangesAndNamesARowRewrittenWithSql() throws Exception {
        JsonPath token = asAdmin().contentType("application/json")
                .body(Map.of("principal", "verify-bot", "roles", List.of("reviewer")))
                .post("/api/tokens").then().statusCode(201).extract().jsonPath();
        asAdmin().delete("/api/tokens/" + token.getString("id")).then().statusCode(200);
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/audit/verify").then().statusCode(200)
                .body("valid", equalTo(true)).body("firstBadId", nullValue());
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).get("/api/audit/verify").then().statusCode(403);

        // A monitor keeps the head and passes it back: a chain that lost it was cut short.
        String head = asAdmin().get("/api/audit/verify").then().statusCode(200).extract().path("lastHash");
        asAdmin().queryParam("head", head).get("/api/audit/verify").then().statusCode(200).body("valid", equalTo(true));
        asAdmin().queryParam("head", "0".repeat(64)).get("/api/audit/verify").then().statusCode(200)
                .body("valid", equalTo(false)).body("firstBadId", nullValue())
                .body("reason", containsString("cut off the end"));
        asAdmin().queryParam("head", "abc").get("/api/audit/verify").then().statusCode(400)
                .body("detail", containsString("'head'"));

        // Make the revocation look as if someone else did it.
        long id = ((Number) asAdmin().get("/api/audit?subject=principal:verify-bot").then().statusCode(200)
                .extract().jsonPath().getList("findAll { it.action == 'token.revoked' }.id").get(0)).longValue();
        sql("ALTER TABLE audit_log DISABLE TRIGGER USER",
                "UPDATE audit_log SET actor = 'mallory' WHERE id = " + id,
                "ALTER TABLE audit_log ENABLE TRIGGER USER");
        try {
            asAdmin().get("/api/audit/verify").then().statusCode(200)
                    .body("valid", equalTo(false))
                    .body("firstBadId", equalTo((int) id))
                    .body("reason", containsString("row " + id));
        } finally {
            // Put the row back so the rest of the suite shares an intact log.
            sql("ALTER TABLE audit_log DISABLE TRIGGER USER",
                    "UPDATE audit_log SET actor = 'demo-admin' WHERE id = " + id,
                    "ALTER TABLE audit_log ENABLE TRIGGER USER");
        }
        asAdmin().get("/api/audit/verify").then().statusCode(200).body("valid", equalTo(true));
    }

    /** Every request carries exactly one token, so a request meant for another role never carries the admin's too. */
    private static RequestSpecification asAdmin() {
        return given().spec(TestTokens.bearer(TestTokens.ADMIN));
    }

    /** "actor action" of each entry about the subject, newest first. */
    private static List<String> actions(String subject) {
        JsonPath entries = given().spec(TestTokens.bearer(TestTokens.ADMIN)).queryParam("subject", subject)
                .get("/api/audit").then().statusCode(200).extract().jsonPath();
        List<String> actors = entries.getList("actor");
        List<String> actions = entries.getList("action");
        return java.util.stream.IntStream.range(0, actors.size()).mapToObj(i -> actors.get(i) + " " + actions.get(i))
                .toList();
    }

    /** As the owner role: the application's own role may not switch the triggers off. */
    private void sql(String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(url, ownerUser, ownerPassword); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    private static String upload(byte[] bytes) {
        return asAdmin().contentType("application/octet-stream").body(bytes)
                .post("/api/artifacts?mediaType=application/onnx")
                .then().statusCode(org.hamcrest.Matchers.oneOf(200, 201)).extract().path("artifact.sha256");
    }
}
