package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Script running on Anvil's origin (or a page that gets the browser to send a request) has the UI's sign-in
 * cookie for free, but not the token itself: the REST API takes changes only with the token in the
 * Authorization header, so the cookie alone cannot start runs, mint tokens or decide approvals.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ApiSessionCookieSecurityTest {

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void aChangeWithOnlyTheUiCookieIsRefusedNamingTheHeader() {
        given().cookie("anvil_token", TestTokens.ADMIN).contentType("application/json")
                .body(Map.of("principal", "mallory", "roles", List.of("admin"))).post("/api/tokens")
                .then().statusCode(401).contentType("application/problem+json")
                .body("detail", containsString("does not accept the web UI's sign-in cookie anvil_token"))
                .body("detail", containsString("POST /api/tokens"))
                .body("detail", containsString("Authorization"));
        given().cookie("anvil_token", TestTokens.ADMIN).contentType("application/yaml").body("pipeline: p\ntasks: {}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/cookie-made").then().statusCode(401)
                .body("detail", containsString("PUT /api/pipelines/cookie-made"));
        given().cookie("anvil_token", TestTokens.ADMIN).delete("/api/tokens/1").then().statusCode(401);
        given().cookie("anvil_token", TestTokens.ADMIN).contentType("application/octet-stream").body(new byte[] {1, 2})
                .post("/api/artifacts").then().statusCode(401);
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/pipelines/cookie-made").then().statusCode(404);
    }

    @Test
    void anApprovalThroughTheApiWithOnlyTheCookieIsRefusedAndTheBearerTokenStillWorks() {
        String approval = UiFormForgerySecurityTest.pendingApproval();
        given().cookie("anvil_token", TestTokens.REVIEWER).contentType("application/json").body(Map.of("comment", "x"))
                .post("/api/approvals/" + approval + "/approve").then().statusCode(401)
                .header("WWW-Authenticate", containsString("Bearer"));
        UiFormForgerySecurityTest.stillPending(approval);
        // reading with the cookie still works, and a bearer token is not affected by a cookie beside it
        given().cookie("anvil_token", TestTokens.REVIEWER).get("/api/approvals/" + approval).then().statusCode(200);
        given().cookie("anvil_token", TestTokens.SUBMITTER).spec(TestTokens.bearer(TestTokens.REVIEWER))
                .contentType("application/json").body(Map.of("comment", "lgtm"))
                .post("/api/approvals/" + approval + "/approve").then().statusCode(200).body("state", equalTo("approved"));
    }
}
