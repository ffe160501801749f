package dev.anvil.api.auth;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Admins list and revoke API tokens; a revoked token stops working at once in the process that revoked it. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class TokenResourceTest {

    @BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void aTokenIsListedWithoutItsSecretAndRevokingItLocksItOutAtOnce() {
        JsonPath made = given().contentType("application/json")
                .body(Map.of("principal", "ci-bot-revoke", "roles", List.of("submitter"), "label", "nightly"))
                .when().post("/api/tokens").then().statusCode(201).extract().jsonPath();
        String token = made.getString("token");
        String id = made.getString("id");
        TestTokens.signOut();
        // used once, so this process has it cached as valid
        given().spec(TestTokens.bearer(token)).get("/api/me").then().statusCode(200).body("principal", equalTo("ci-bot-revoke"));

        given().spec(TestTokens.bearer(TestTokens.ADMIN)).queryParam("principal", "ci-bot-revoke")
                .get("/api/tokens").then().statusCode(200)
                .body("[0].id", equalTo(id))
                .body("[0].label", equalTo("nightly"))
                .body("[0].active", equalTo(true))
                .body("[0]", not(org.hamcrest.Matchers.hasKey("token")));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).get("/api/tokens").then().statusCode(200)
                .body("id", hasItem(id));

        given().spec(TestTokens.bearer(TestTokens.ADMIN)).delete("/api/tokens/" + id).then().statusCode(200)
                .body("active", equalTo(false)).body("revokedAt", notNullValue());
        given().spec(TestTokens.bearer(token)).get("/api/me").then().statusCode(401)
                .body("detail", containsString("unknown or revoked"));
        // revoking again changes nothing
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).delete("/api/tokens/" + id).then().statusCode(200)
                .body("active", equalTo(false));
    }

    @Test
    void mistakesAndOtherRolesAreRefused() {
        given().delete("/api/tokens/" + "0".repeat(64)).then().statusCode(404)
                .body("detail", containsString("no token with id"));
        given().delete("/api/tokens/anvil_not-an-id").then().statusCode(400)
                .body("detail", containsString("not the token itself"));
        TestTokens.signOut();
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/tokens").then().statusCode(403);
        given().get("/api/tokens").then().statusCode(401);
    }
}
