package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.api.UiForms;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Another site's page auto-submits a form to Anvil's approve URL while a reviewer is signed in: the browser adds
 * the reviewer's cookies, but the form cannot carry this browser's form token, so it is refused and the approval
 * stays pending. The same form sent from Anvil's own page goes through.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UiFormForgerySecurityTest {

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    /** A one-task pipeline that waits for an approval; submitted by the submitter, so the reviewer may approve. */
    static String pendingApproval() {
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/yaml").body("""
                pipeline: forged
                tasks:
                  approve: {operator: approval, with: {summary: "ship it?"}}
                """.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put("/api/pipelines/forged").then().statusCode(oneOf(200, 201));
        String run = given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json").body(Map.of())
                .post("/api/pipelines/forged/runs").then().statusCode(201).extract().path("run");
        return await().atMost(Duration.ofSeconds(60)).until(() -> given().spec(TestTokens.bearer(TestTokens.REVIEWER))
                .get("/api/approvals?state=pending").then().extract().jsonPath().<Map<String, Object>>getList("$")
                .stream().filter(a -> run.equals(a.get("run"))).map(a -> (String) a.get("id")).findFirst(),
                Optional::isPresent).orElseThrow();
    }

    static void stillPending(String approval) {
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/approvals/" + approval).then()
                .body("state", equalTo("pending")).body("decisions", org.hamcrest.Matchers.empty());
    }

    @Test
    void aCrossSiteApprovalWithoutTheFormTokenIsRefusedAndChangesNothing() {
        String approval = pendingApproval();
        String approve = "/ui/approvals/" + approval + "/approve";
        // the reviewer's browser has opened Anvil before, so it holds a form token cookie too
        String held = given().cookie("anvil_token", TestTokens.REVIEWER).get("/ui/approvals").getCookie(UiForms.TOKEN_COOKIE);

        // the forged form: the browser sends the cookies, the page cannot know the token
        given().cookie("anvil_token", TestTokens.REVIEWER).cookie(UiForms.TOKEN_COOKIE, held)
                .contentType("application/x-www-form-urlencoded").formParam("comment", "lgtm").redirects().follow(false)
                .post(approve).then().statusCode(403).contentType(containsString("text/html"))
                .body(containsString("data-testid=\"form-refused\"")).body(containsString("form token"))
                .body(containsString("Nothing was changed"));
        // a guessed token
        given().cookie("anvil_token", TestTokens.REVIEWER).cookie(UiForms.TOKEN_COOKIE, held)
                .contentType("application/x-www-form-urlencoded").formParam("comment", "lgtm")
                .formParam(UiForms.TOKEN_FIELD, "A".repeat(43)).redirects().follow(false)
                .post(approve).then().statusCode(403);
        // a browser that never opened Anvil (no token cookie): the site fills in both halves of its own choosing
        given().cookie("anvil_token", TestTokens.REVIEWER).contentType("application/x-www-form-urlencoded")
                .formParam(UiForms.TOKEN_FIELD, "A".repeat(43)).redirects().follow(false)
                .post(approve).then().statusCode(403).body(containsString("holds no Anvil form token"));
        stillPending(approval);

        // the reject form and signing out are forms too
        given().cookie("anvil_token", TestTokens.REVIEWER).cookie(UiForms.TOKEN_COOKIE, held)
                .contentType("application/x-www-form-urlencoded").formParam("comment", "forged")
                .redirects().follow(false).post("/ui/approvals/" + approval + "/reject").then().statusCode(403);
        given().cookie("anvil_token", TestTokens.REVIEWER).redirects().follow(false).post("/ui/logout")
                .then().statusCode(403);
        stillPending(approval);

        // from Anvil's own page, the same decision goes through
        UiForms.signedIn("/ui/approvals/" + approval, TestTokens.REVIEWER).formParam("comment", "lgtm")
                .redirects().follow(false).post(approve).then().statusCode(303);
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/approvals/" + approval).then()
                .body("state", equalTo("approved"));
    }

    @Test
    void aForgedSignInIsRefused() {
        // login forgery: signing the victim's browser in as the attacker, whose runs the victim then reviews
        given().contentType("application/x-www-form-urlencoded").formParam("token", TestTokens.SUBMITTER)
                .redirects().follow(false).post("/ui/login").then().statusCode(403)
                .header("Set-Cookie", org.hamcrest.Matchers.not(containsString("anvil_token=")));
        UiForms.from("/ui/login", Map.of()).formParam("token", TestTokens.SUBMITTER).redirects().follow(false)
                .post("/ui/login").then().statusCode(303).header("Set-Cookie", containsString("anvil_token="));
    }

    @Test
    void theTokenCookieIsHttpOnlyStrictAndScopedToTheUi() {
        given().get("/ui/login").then().statusCode(200)
                .header("Set-Cookie", containsString(UiForms.TOKEN_COOKIE + "="))
                .header("Set-Cookie", org.hamcrest.Matchers.containsStringIgnoringCase("HttpOnly"))
                .header("Set-Cookie", containsString("SameSite=Strict"))
                .header("Set-Cookie", containsString("Path=/ui"));
    }
}
