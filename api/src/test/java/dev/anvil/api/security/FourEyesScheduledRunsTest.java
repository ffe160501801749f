package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Runs a schedule starts (its own ticks and backfills) are requested by a person, so the four-eyes
 * rule holds for them: a submitter who also reviews cannot get their own model approved by
 * scheduling or backfilling it instead of starting it, nor by spelling their name differently.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class FourEyesScheduledRunsTest {

    private static String spec(String name, String schedule) {
        return """
                pipeline: %s
                schedule: "%s"
                tasks:
                  build:   {operator: noop}
                  approve: {operator: approval, upstream: [build], with: {summary: "ship it?"}}
                  deploy:  {operator: noop, upstream: [approve]}
                """.formatted(name, schedule);
    }

    private static String token(String principal, String... roles) {
        return given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("principal", principal, "roles", List.of(roles))).post("/api/tokens")
                .then().statusCode(201).extract().path("token");
    }

    private static void register(String token, String name, String schedule) {
        given().spec(TestTokens.bearer(token)).contentType("application/yaml")
                .body(spec(name, schedule).getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/" + name)
                .then().statusCode(anyOf(equalTo(201), equalTo(200)));
    }

    private static void backfillOneTick(String token, String name) {
        given().spec(TestTokens.bearer(token)).contentType("application/json")
                .body(Map.of("from", "2026-01-01T00:00:00Z", "to", "2026-01-01T00:00:00Z"))
                .post("/api/pipelines/" + name + "/backfill").then().statusCode(202);
    }

    /** The pending approval of the pipeline's one run, once the run reached it. */
    private static Map<String, Object> awaitPendingApproval(String pipeline) {
        return await("a run of " + pipeline + " reached its approval").atMost(Duration.ofSeconds(60))
                .until(() -> pendingApprovalOf(pipeline), Optional::isPresent).orElseThrow();
    }

    private static Optional<Map<String, Object>> pendingApprovalOf(String pipeline) {
        List<Map<String, Object>> pending = given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals?state=pending").then().statusCode(200)
                .extract().jsonPath().getList("$");
        return pending.stream().filter(a -> pipeline.equals(a.get("pipeline"))).findFirst();
    }

    private static io.restassured.response.ValidatableResponse approve(String token, String approvalId) {
        return given().spec(TestTokens.bearer(token)).contentType("application/json").body(Map.of())
                .post("/api/approvals/" + approvalId + "/approve").then();
    }

    @Test
    void whoBackfillsARunMayNotApproveIt() {
        String sam = token("sam-scheduler", "submitter", "reviewer");
        register(sam, "fe-backfill", "@daily");
        backfillOneTick(sam, "fe-backfill");

        Map<String, Object> approval = awaitPendingApproval("fe-backfill");
        String id = (String) approval.get("id");
        approve(sam, id).statusCode(403).contentType("application/problem+json")
                .body("detail", containsString("four-eyes"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + id).then().body("requestedBy", equalTo("sam-scheduler"))
                .body("run", equalTo("fe-backfill-scheduled-20260101T000000Z"));
        approve(TestTokens.REVIEWER, id).statusCode(200).body("state", equalTo("approved"))
                .body("approvedBy", hasItem("demo-reviewer"));
    }

    @Test
    void whoBackfillsIsTheRequesterEvenWhenSomeoneElseRegistered() {
        // the admin registered the schedule; bo asked for the backfill, so bo is the one held back
        String bo = token("bo", "submitter", "reviewer");
        register(TestTokens.ADMIN, "fe-backfill-other", "@daily");
        backfillOneTick(bo, "fe-backfill-other");

        String id = (String) awaitPendingApproval("fe-backfill-other").get("id");
        approve(bo, id).statusCode(403).body("detail", containsString("four-eyes"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + id).then().body("requestedBy", equalTo("bo"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/pipelines/fe-backfill-other").then().body("registeredBy", equalTo("demo-admin"));
        approve(TestTokens.REVIEWER, id).statusCode(200);
    }

    @Test
    void anotherSpellingOfTheRequesterIsTheSamePerson() {
        String alice = token("Alice", "submitter");
        // token principals are trimmed when made: "alice " is "alice"; the full-width one stays as sent
        String aliceLower = token("alice ", "reviewer");
        String aliceWide = token("ａｌｉｃｅ", "reviewer");
        register(alice, "fe-spelling", "@daily");
        backfillOneTick(alice, "fe-spelling");

        String id = (String) awaitPendingApproval("fe-spelling").get("id");
        approve(aliceLower, id).statusCode(403).body("detail", containsString("four-eyes"));
        approve(aliceWide, id).statusCode(403).body("detail", containsString("four-eyes"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + id).then().body("requestedBy", equalTo("Alice"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + id).then().body("state", equalTo("pending")).body("decisions.size()", equalTo(0));
        approve(TestTokens.REVIEWER, id).statusCode(200).body("state", equalTo("approved"));
    }

    @Test
    void aScheduledTickIsRequestedByWhoRegisteredTheSchedule() {
        // @once fires as soon as the pipeline is registered: a run nobody started by hand
        String rae = token("Rae", "submitter", "reviewer");
        String raeAgain = token("rae", "reviewer");
        register(rae, "fe-scheduled", "@once");

        String id = (String) awaitPendingApproval("fe-scheduled").get("id");
        approve(rae, id).statusCode(403).body("detail", containsString("four-eyes"));
        approve(raeAgain, id).statusCode(403).body("detail", containsString("four-eyes"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/approvals/" + id).then().body("requestedBy", equalTo("Rae"))
                .body("run", containsString("fe-scheduled-scheduled-"));
        approve(TestTokens.REVIEWER, id).statusCode(200).body("state", equalTo("approved"));
    }
}
