package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Approvals over REST against the real dev server: roles, four-eyes, comments, and the run going on. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ApprovalResourceTest {

    static final String SPEC = """
            pipeline: gated
            tasks:
              build:   {operator: noop}
              approve: {operator: approval, upstream: [build], with: {summary: "ship it?"}}
              deploy:  {operator: noop, upstream: [approve]}
            """;

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    static String startGatedRun(String submitterToken) {
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/yaml")
                .body(SPEC.getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/gated").then().statusCode(anyOf201or200());
        return given().spec(TestTokens.bearer(submitterToken)).contentType("application/json").body(Map.of())
                .post("/api/pipelines/gated/runs").then().statusCode(201).extract().path("run");
    }

    private static org.hamcrest.Matcher<Integer> anyOf201or200() {
        return org.hamcrest.Matchers.anyOf(equalTo(200), equalTo(201));
    }

    /** Waits (polling, no timing asserted) until the run's approval is pending, and returns its id. */
    static String awaitPendingApproval(String runId) {
        return await("run " + runId + " reached its approval").atMost(Duration.ofSeconds(60))
                .until(() -> pendingApprovalOf(runId), Optional::isPresent).orElseThrow();
    }

    private static Optional<String> pendingApprovalOf(String runId) {
        List<Map<String, Object>> pending = given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals?state=pending").then().statusCode(200)
                .extract().jsonPath().getList("$");
        return pending.stream().filter(a -> runId.equals(a.get("run"))).map(a -> (String) a.get("id")).findFirst();
    }

    @Test
    void aReviewerApprovesAndTheRunCompletes() {
        String run = startGatedRun(TestTokens.SUBMITTER);
        String approval = awaitPendingApproval(run);
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then().statusCode(200)
                .body("state", equalTo("pending")).body("requestedBy", equalTo("demo-submitter"))
                .body("task", equalTo("approve")).body("pipeline", equalTo("gated"));

        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json")
                .body(Map.of("comment", "numbers look right")).post("/api/approvals/" + approval + "/approve")
                .then().statusCode(200).body("state", equalTo("approved")).body("approvedBy", hasItem("demo-reviewer"));

        JsonPath end = PipelineResourceTest.awaitEnd(run);
        assertThat(end.getString("run.status")).isEqualTo("success");
        assertThat(end.getList("tasks.status")).containsOnly("success");
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then().body("state", equalTo("approved"))
                .body("decisions[0].reviewer", equalTo("demo-reviewer"))
                .body("decisions[0].comment", equalTo("numbers look right"));
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json").body(Map.of())
                .post("/api/approvals/" + approval + "/approve").then().statusCode(409)
                .body("detail", containsString("already approved"));

        // who, when and why are in the append-only audit log, which reviewers and admins may read
        JsonPath audit = given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/audit?subject=run:" + run)
                .then().statusCode(200).extract().jsonPath();
        assertThat(audit.getList("action")).containsExactly("approval.approve", "approval.requested", "run.started");
        assertThat(audit.getList("actor")).containsExactly("demo-reviewer", "demo-submitter", "demo-submitter");
        assertThat(audit.getString("[0].detailsJson.comment")).isEqualTo("numbers look right");
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).get("/api/audit").then().statusCode(403);
    }

    @Test
    void roleRulesAndFourEyesAreEnforcedWithProblemJson() {
        // pat may both submit and review, so only the four-eyes rule stops pat approving pat's own run
        String pat = given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("principal", "pat", "roles", List.of("submitter", "reviewer"))).post("/api/tokens")
                .then().statusCode(201).extract().path("token");
        String run = startGatedRun(pat);
        String approval = awaitPendingApproval(run);
        String approve = "/api/approvals/" + approval + "/approve";

        given().contentType("application/json").body(Map.of()).post(approve).then().statusCode(401)
                .contentType("application/problem+json");
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body(Map.of()).post(approve)
                .then().statusCode(403).body("detail", containsString("needs the role reviewer"));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json").body(Map.of()).post(approve)
                .then().statusCode(403).body("detail", containsString("needs the role reviewer"));
        given().spec(TestTokens.bearer(pat)).contentType("application/json").body(Map.of()).post(approve)
                .then().statusCode(403).contentType("application/problem+json")
                .body("detail", equalTo("'pat' submitted run " + run + " and may not approve it (four-eyes rule); another reviewer must"));
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json").body(Map.of("comment", " "))
                .post("/api/approvals/" + approval + "/reject")
                .then().statusCode(400).body("errors[0].field", equalTo("comment"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then().body("state", equalTo("pending")).body("decisions.size()", equalTo(0));

        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json")
                .body(Map.of("comment", "wrong calibration set")).post("/api/approvals/" + approval + "/reject")
                .then().statusCode(200).body("state", equalTo("rejected"));
        JsonPath end = PipelineResourceTest.awaitEnd(run);
        assertThat(end.getString("run.status")).isEqualTo("failed");
        assertThat(end.getString("run.error")).contains("rejected by demo-reviewer: wrong calibration set");
    }

    @Test
    void theUiSendsStrangersToSignInAndRefusesUnknownTokens() {
        given().redirects().follow(false).get("/ui/approvals").then().statusCode(303)
                .header("Location", containsString("/ui/login"));
        UiForms.from("/ui/login", Map.of()).formParam("token", "anvil_wrong").post("/ui/login")
                .then().statusCode(401).contentType(containsString("text/html")).body(containsString("unknown or revoked"));
        UiForms.from("/ui/login", Map.of()).redirects().follow(false)
                .formParam("token", TestTokens.REVIEWER).post("/ui/login")
                .then().statusCode(303).header("Set-Cookie", containsString("HttpOnly"))
                .header("Set-Cookie", containsString("SameSite=Strict"));
        given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals").then().statusCode(200)
                .body(containsString("Signed in as <b data-testid=\"who\">demo-reviewer</b>"));
        given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals?state=maybe").then().statusCode(200)
                .body(containsString("Show: <b>pending</b> <a href=\"/ui/approvals?state=approved\">approved</a>"));
        given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/models").then().statusCode(200)
                .body(containsString("<h1>Models</h1>"));
        // a form post from a submitter without the reviewer role is refused in the page, not as JSON
        String run = startGatedRun(TestTokens.SUBMITTER);
        String approval = awaitPendingApproval(run);
        given().cookie("anvil_token", TestTokens.SUBMITTER).get("/ui/runs/" + run).then().statusCode(200)
                .body(containsString("<meta http-equiv=\"refresh\" content=\"5\">"))
                .body(containsString("(this page refreshes every 5 s)"));
        UiForms.signedIn("/ui/approvals/" + approval, TestTokens.SUBMITTER)
                .formParam("comment", "").post("/ui/approvals/" + approval + "/approve")
                .then().statusCode(403).contentType(containsString("text/html"))
                .body(containsString("needs the role reviewer"));
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).post("/api/runs/" + run + "/cancel").then().statusCode(202);
        PipelineResourceTest.awaitEnd(run);
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + approval).then().body("state", equalTo("expired"));
        given().cookie("anvil_token", TestTokens.SUBMITTER).get("/ui/runs/" + run).then().statusCode(200)
                .body(org.hamcrest.Matchers.not(containsString("http-equiv=\"refresh\"")))
                .body(containsString("<span class=\"badge expired\">expired</span>"));
    }

    @Test
    void unknownApprovalsAndStatesAreNamed() {
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/nope").then().statusCode(404).body("detail", containsString("no approval with id 'nope'"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals?state=maybe").then().statusCode(400).body("errors[0].field", equalTo("state"));
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/json").body(Map.of())
                .post("/api/approvals/nope/approve").then().statusCode(404);
    }
}
