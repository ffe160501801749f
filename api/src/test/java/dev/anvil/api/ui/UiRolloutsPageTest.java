package dev.anvil.api.ui;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import dev.anvil.api.BreakGlass;
import dev.anvil.api.InspectModelResourceTest;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.RolloutTest;
import dev.anvil.api.TestTokens;
import dev.anvil.api.UiForms;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rollouts and endpoints pages on the local stack: a rollout held at its first step (an hour's interval) is
 * listed with its endpoint's live weights; a viewer or submitter sees no buttons and is refused when posting
 * anyway; a post without the form token is refused; a reviewer pauses, resumes and aborts it through the same
 * rules as the REST API; unknown rollouts and commands get their error pages.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiRolloutsPageTest {
    private static final Duration STEP_WAIT = Duration.ofSeconds(90);

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void aReviewerSteersARolloutFromItsPageAndNobodyElseCan() throws Exception {
        String id = heldRollout("ui-held");
        String page = "/ui/rollouts/" + id;
        Map<String, String> viewer = Map.of("anvil_token", TestTokens.VIEWER);

        given().cookies(viewer).get("/ui/endpoints").then().statusCode(200)
                .body(containsString("data-testid=\"canary-weight\">5 %"))
                .body(containsString("data-testid=\"stable-weight\">95 %"))
                .body(containsString("href=\"/ui/rollouts/" + id + "\""));
        given().cookies(viewer).get("/ui/rollouts").then().statusCode(200)
                .body(containsString("href=\"/ui/rollouts/" + id + "\""));
        // the list filters by endpoint and state; what it is given comes back as text, never markup
        given().cookies(viewer).queryParams(Map.of("endpoint", "ui-held", "state", "running")).get("/ui/rollouts").then()
                .statusCode(200).body(containsString("href=\"/ui/rollouts/" + id + "\""))
                .body(containsString("<option value=\"running\" selected>"));
        given().cookies(viewer).queryParam("state", "aborted").get("/ui/rollouts").then().statusCode(200)
                .body(not(containsString("href=\"/ui/rollouts/" + id + "\"")));
        given().cookies(viewer).queryParams(Map.of("endpoint", "<script>x", "state", "<b>exploded")).get("/ui/rollouts")
                .then().statusCode(200).body(containsString("data-testid=\"no-rollouts\">No rollout matches."))
                .body(containsString("&lt;script&gt;x")).body(not(containsString("<script>x")))
                .body(not(containsString("<b>exploded")));
        given().cookies(viewer).get(page).then().statusCode(200)
                .body(containsString("data-testid=\"summary\"")).body(containsString("ui-held"))
                .body(containsString("data-testid=\"not-steerer\"")).body(not(containsString("data-testid=\"pause\"")))
                .body(not(containsString("style=")));

        // the models page: search by name, the full sha256 linked, where each version serves
        given().cookies(viewer).get("/ui/models?q=UI-HEL").then().statusCode(200)
                .body(containsString("<h2>ui-held</h2>"))
                .body(org.hamcrest.Matchers.matchesPattern("(?s).*data-testid=\"serves-ui-held-1\"><a href=\"/ui/endpoints\">ui-held</a> \\(stable, 95 %\\).*"))
                .body(org.hamcrest.Matchers.matchesPattern("(?s).*data-testid=\"serves-ui-held-2\"><a href=\"/ui/endpoints\">ui-held</a> \\(canary, 5 %\\).*"))
                .body(org.hamcrest.Matchers.matchesPattern("(?s).*<a href=\"/api/artifacts/[0-9a-f]{64}\" data-testid=\"artifact-link\"><code class=\"wrap\">[0-9a-f]{64}</code>.*"));
        given().cookies(viewer).urlEncodingEnabled(false).get("/ui/models?q=%3Cscript%3Enothing").then().statusCode(200)
                .body(containsString("data-testid=\"no-match\"")).body(not(containsString("<h2>ui-held</h2>")))
                .body(containsString("&lt;script&gt;nothing")).body(not(containsString("<script>nothing")));

        // a viewer and a submitter hold the page's form token but not the role: refused, nothing changes
        for (String token : List.of(TestTokens.VIEWER, TestTokens.SUBMITTER)) {
            UiForms.signedIn(page, token).formParam("reason", "not mine to stop").redirects().follow(false)
                    .post(page + "/abort").then().statusCode(403).body(containsString("data-testid=\"refusal\""))
                    .body(containsString("needs the role reviewer or admin"));
        }
        stateIs(id, "running");

        // a reviewer's cookies without the form token (a forged cross-site form): refused before anything runs
        String held = given().cookie("anvil_token", TestTokens.REVIEWER).get(page).getCookie(UiForms.TOKEN_COOKIE);
        given().cookie("anvil_token", TestTokens.REVIEWER).cookie(UiForms.TOKEN_COOKIE, held)
                .contentType("application/x-www-form-urlencoded").formParam("reason", "forged").redirects().follow(false)
                .post(page + "/pause").then().statusCode(403).body(containsString("data-testid=\"form-refused\""));
        stateIs(id, "running");

        // the reviewer sees the buttons a running rollout takes, and an unknown command is refused
        given().cookie("anvil_token", TestTokens.REVIEWER).get(page).then().statusCode(200)
                .body(containsString("data-testid=\"pause\"")).body(containsString("data-testid=\"abort\""))
                .body(not(containsString("data-testid=\"resume\"")));
        UiForms.signedIn(page, TestTokens.REVIEWER).redirects().follow(false).post(page + "/explode").then()
                .statusCode(400).body(containsString("unknown rollout command"));
        // resuming a running rollout: the workflow's own refusal, as the API gives it
        UiForms.signedIn(page, TestTokens.REVIEWER).redirects().follow(false).post(page + "/resume").then()
                .statusCode(409).body(containsString("only a paused rollout can be resumed"));

        String location = UiForms.signedIn(page, TestTokens.REVIEWER).formParam("reason", "alarm on the canary")
                .redirects().follow(false).post(page + "/pause").then().statusCode(303).extract().header("Location");
        given().cookie("anvil_token", TestTokens.REVIEWER).urlEncodingEnabled(false).get(location).then().statusCode(200)
                .body(containsString("data-testid=\"done\"")).body(containsString("now paused"))
                .body(containsString("data-testid=\"resume\"")).body(not(containsString("data-testid=\"pause\"")));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/rollouts/" + id).then()
                .body("live.state", equalTo("paused"));

        UiForms.signedIn(page, TestTokens.REVIEWER).redirects().follow(false).post(page + "/abort").then().statusCode(303);
        await("rollout " + id + " aborted").atMost(STEP_WAIT).until(() -> given().spec(TestTokens.bearer(TestTokens.ADMIN))
                .get("/api/rollouts/" + id).then().extract().path("rollout.state"), equalTo("aborted"));
        given().cookie("anvil_token", TestTokens.REVIEWER).get(page).then().statusCode(200)
                .body(containsString("nothing to change")).body(not(containsString("data-testid=\"promote\"")));
        UiForms.signedIn(page, TestTokens.REVIEWER).redirects().follow(false).post(page + "/promote").then()
                .statusCode(409).body(containsString("has finished (aborted)"));
    }

    @Test
    void unknownRolloutsAndAnonymousBrowsersGetTheirPages() {
        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/rollouts/no-such-rollout").then().statusCode(404)
                .body(containsString("No rollout with id <code>no-such-rollout</code>"));
        given().cookie("anvil_token", TestTokens.VIEWER).urlEncodingEnabled(false).get("/ui/rollouts/%3Cscript%3E").then().statusCode(404)
                .body(not(containsString("<script>"))).body(containsString("&lt;script&gt;"));
        UiForms.signedIn("/ui/rollouts", TestTokens.REVIEWER).redirects().follow(false)
                .post("/ui/rollouts/no-such-rollout/pause").then().statusCode(404);
        given().redirects().follow(false).get("/ui/rollouts").then().statusCode(303)
                .header("Location", containsString("/ui/login"));
    }

    /** An endpoint serving cnn_mnist and a rollout (an admin broke glass for an untested twin) held at its first step. */
    private static String heldRollout(String endpoint) throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        try {
            byte[] model = Files.readAllBytes(SharedData.cnnMnist());
            String stable = InspectModelResourceTest.upload(model);
            String candidate = InspectModelResourceTest.upload(RolloutTest.slowerTwin(model));
            given().contentType("application/json").body(BreakGlass.with(Map.of("model", endpoint, "artifact", stable)))
                    .when().put("/api/endpoints/" + endpoint).then().statusCode(201);
            String id = given().contentType("application/json").body(Map.of("endpoint", endpoint, "model", candidate,
                            "interval", "1h", "break_glass", Map.of("reason", "UiRolloutsPageTest: a rollout to steer")))
                    .when().post("/api/rollouts").then().statusCode(201).extract().path("rollout");
            await("the canary of '" + endpoint + "' at the first step's weight").atMost(STEP_WAIT).until(
                    () -> given().get("/api/endpoints/" + endpoint).then().extract().<Integer>path("canary.weight"), equalTo(5));
            return id;
        } finally {
            TestTokens.signOut();
        }
    }

    private static void stateIs(String id, String state) {
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/rollouts/" + id).then().statusCode(200)
                .body("rollout.state", equalTo(state));
    }
}
