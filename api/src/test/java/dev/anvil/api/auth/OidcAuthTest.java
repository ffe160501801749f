package dev.anvil.api.auth;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The API accepts an OIDC provider's bearer JWTs beside its own tokens, with the same role rules. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class OidcAuthTest {
    final TestOidcProvider provider = TestOidcProvider.shared();

    @BeforeEach
    void signOut() {
        TestTokens.signOut();
    }

    @Test
    void aReviewersJwtSignsThemIn() {
        given().header("Authorization", "Bearer " + provider.token("rita", List.of("anvil-reviewer", "offline_access")))
                .when().get("/api/me")
                .then().statusCode(200)
                .body("principal", equalTo("rita"))
                .body("roles", equalTo(List.of("reviewer")));
    }

    @Test
    void roleRulesApplyToJwtCallersAndTheRefusalNamesTheClaim() {
        String body = "{\"principal\": \"ci-bot\", \"roles\": [\"submitter\"], \"label\": \"from an OIDC admin\"}";
        given().header("Authorization", "Bearer " + provider.token("sam", List.of("anvil-submitter")))
                .contentType("application/json").body(body)
                .when().post("/api/tokens")
                .then().statusCode(403)
                .contentType("application/problem+json")
                .body("detail", containsString("'sam' (roles [submitter] (from the JWT claim realm_access.roles"))
                .body("detail", containsString("it needs the role admin"));
        given().header("Authorization", "Bearer " + provider.token("ada", List.of("anvil-admin")))
                .contentType("application/json").body(body)
                .when().post("/api/tokens")
                .then().statusCode(201)
                .body("principal", equalTo("ci-bot"));
    }

    @Test
    void anExpiredJwtIsA401ProblemSayingSo() {
        String expired = provider.token(c -> c.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 300)));
        given().header("Authorization", "Bearer " + expired)
                .when().get("/api/me")
                .then().statusCode(401)
                .contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("detail", containsString("the bearer JWT is refused: it has expired"));
    }

    @Test
    void apiTokensStillWorkBesideJwts() {
        given().header("Authorization", "Bearer " + TestTokens.REVIEWER)
                .when().get("/api/me")
                .then().statusCode(200)
                .body("roles", hasItems("reviewer"));
    }
}
