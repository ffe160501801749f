package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.api.UiForms;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The approval page says what is being approved (the task's summary) and what approving starts (the canary
 * downstream: endpoint and steps), shows the evidence before the decision form, and shows the decision once made;
 * forged and wrong-role decisions change nothing.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiApprovalPageTest {

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void theSummaryAndTheCanaryComeFirstAndTheDecisionShowsAfterwards() {
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/yaml").body("""
                pipeline: ui-plan
                tasks:
                  approve: {operator: approval, with: {summary: "ship digits v7 <b>now</b>"}}
                  rollout:
                    operator: canary
                    upstream: [approve]
                    with: {endpoint: ui-plan-endpoint, model: "%s", steps: [10, 100], interval: 1m}
                """.formatted("a".repeat(64)).getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/ui-plan")
                .then().statusCode(oneOf(200, 201));
        String run = given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body(Map.of())
                .post("/api/pipelines/ui-plan/runs").then().statusCode(201).extract().path("run");
        String approval = await().atMost(Duration.ofSeconds(60)).until(() -> given().spec(TestTokens.bearer(TestTokens.REVIEWER))
                .get("/api/approvals?state=pending").then().extract().jsonPath().<Map<String, Object>>getList("$")
                .stream().filter(a -> run.equals(a.get("run"))).map(a -> (String) a.get("id")).findFirst(),
                Optional::isPresent).orElseThrow();
        String page = "/ui/approvals/" + approval;

        String html = given().cookie("anvil_token", TestTokens.REVIEWER).get(page).then().statusCode(200)
                .body(containsString("ship digits v7 &lt;b&gt;now&lt;/b&gt;"))
                .body(containsString("endpoint <b>ui-plan-endpoint</b>")).body(containsString("[10, 100] %"))
                .extract().asString();
        assertThat(html.indexOf("Gate report")).as("evidence before the decision form").isLessThan(html.indexOf("data-testid=\"approve\""));
        assertThat(html.indexOf("data-testid=\"tasks\"")).isLessThan(html.indexOf("<h2>Decide</h2>"));

        // a viewer sees no reason to post, and its post is refused; a forged post without the form token too
        given().cookie("anvil_token", TestTokens.VIEWER).get(page).then().body(containsString("data-testid=\"not-reviewer\""));
        UiForms.signedIn(page, TestTokens.VIEWER).redirects().follow(false).post(page + "/approve").then().statusCode(403);
        given().cookie("anvil_token", TestTokens.REVIEWER).contentType("application/x-www-form-urlencoded")
                .formParam("comment", "forged").redirects().follow(false).post(page + "/approve").then().statusCode(403)
                .body(containsString("data-testid=\"form-refused\""));

        String location = UiForms.signedIn(page, TestTokens.REVIEWER).formParam("comment", "evidence is fine")
                .redirects().follow(false).post(page + "/approve").then().statusCode(303).extract().header("Location");
        given().cookie("anvil_token", TestTokens.REVIEWER).urlEncodingEnabled(false).get(location).then().statusCode(200)
                .body(containsString("class=\"ok\"")).body(containsString("the approval is now approved"))
                .body(containsString("<span class=\"badge approved\">approved</span>"))
                .body(containsString("evidence is fine")).body(not(containsString("data-testid=\"approve\"")));
    }

    @Test
    void anUnknownApprovalIsA404Page() {
        given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals/no-such-approval").then().statusCode(404)
                .body(containsString("No approval with id"));
    }
}
