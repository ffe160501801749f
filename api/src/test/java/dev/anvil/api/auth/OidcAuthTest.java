package dev.anvil.api.auth;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.ApiTokenStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.NumericDate;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API accepts an OIDC provider's bearer JWTs beside its own tokens, with the same role rules: quarkus-oidc
 * checks them against a real (test) provider over HTTP (discovery, JWKS, claims), and every refusal is a 401
 * problem document naming why.
 */
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
                .body("roles", equalTo(List.of("viewer", "reviewer"))); // a reviewer may read
    }

    @Test
    void roleRulesApplyToJwtCallersAndTheRefusalNamesTheClaim() {
        String body = "{\"principal\": \"ci-bot\", \"roles\": [\"submitter\"], \"label\": \"from an OIDC admin\"}";
        given().header("Authorization", "Bearer " + provider.token("sam", List.of("anvil-submitter")))
                .contentType("application/json").body(body)
                .when().post("/api/tokens")
                .then().statusCode(403)
                .contentType("application/problem+json")
                .body("detail", containsString("'sam' (roles [viewer, submitter] (from the JWT claim realm_access.roles"))
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

    @Test
    void theAnvilRolesAmongTheProvidersRolesCountAndOthersAreIgnored() {
        given().header("Authorization", "Bearer " + provider.token("bob", List.of("ANVIL-Submitter", "anvil-admin", "reviewer")))
                .when().get("/api/me")
                .then().statusCode(200)
                .body("principal", equalTo("bob"))
                .body("roles", containsInAnyOrder("viewer", "submitter", "admin", "invoker")); // "reviewer" lacks the prefix; admin implies viewer and invoker
    }

    @Test
    void withoutThePreferredUsernameTheSubjectNamesTheCaller() {
        given().header("Authorization", "Bearer " + provider.token(c -> c.setSubject("f81d4fae-7dec")))
                .when().get("/api/me")
                .then().statusCode(200)
                .body("principal", equalTo("f81d4fae-7dec"))
                .body("roles", empty());
    }

    @Test
    void aTokenFromAnotherIssuerOrForAnotherAudienceIsRefused() {
        assertRefused(provider.token(c -> c.setIssuer("https://elsewhere.example.com/realms/ml")),
                "it was not issued by " + provider.issuer());
        assertRefused(provider.token(c -> c.setAudience("another-client")), "its audience is not 'anvil'");
    }

    @Test
    void aTokenSignedByAKeyTheProviderDoesNotPublishIsRefused() {
        String forged = TestOidcProvider.sign(provider.claims(c -> c.setClaim("preferred_username", "mallory")),
                TestOidcProvider.newKey());
        assertRefused(forged, "its signature does not verify with the provider's keys");
    }

    @Test
    void aSymmetricOrUnsignedTokenIsRefused() throws Exception {
        JsonWebSignature hs = new JsonWebSignature();
        hs.setPayload(provider.claims(c -> {}).toJson());
        hs.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        hs.setKey(new HmacKey("a-shared-secret-of-at-least-32-bytes!!".getBytes(StandardCharsets.UTF_8)));
        assertRefused(hs.getCompactSerialization(), "it is signed with 'HS256', not an asymmetric algorithm");

        JsonWebSignature none = new JsonWebSignature();
        none.setPayload(provider.claims(c -> {}).toJson());
        none.setAlgorithmHeaderValue(AlgorithmIdentifiers.NONE);
        none.setAlgorithmConstraints(AlgorithmConstraints.NO_CONSTRAINTS);
        assertRefused(none.getCompactSerialization(), "it is signed with 'none'");
    }

    @Test
    void garbageThatLooksLikeAJwtIsRefusedNotAnError() {
        assertRefused("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "the bearer JWT is refused");
    }

    @Test
    void aRotatedKeyIsFetchedWhenATokenNamesIt() throws Exception {
        given().header("Authorization", "Bearer " + provider.token("carol", List.of("anvil-submitter")))
                .get("/api/me").then().statusCode(200);
        int before = provider.jwksFetches();
        provider.rotateKey();
        Thread.sleep(1100); // anvil.auth.oidc.jwks-refresh-interval is 1s in tests
        given().header("Authorization", "Bearer " + provider.token("carol", List.of("anvil-submitter")))
                .get("/api/me").then().statusCode(200)
                .body("roles", equalTo(List.of("viewer", "submitter")));
        assertThat(provider.jwksFetches()).isGreaterThan(before);
    }

    @Test
    void apiTokensNeverLookLikeJwts() {
        for (int i = 0; i < 100; i++) {
            assertThat(ApiTokenAuthenticationMechanism.looksLikeJwt(ApiTokenStore.newToken())).isFalse();
        }
        assertThat(ApiTokenAuthenticationMechanism.looksLikeJwt(provider.token("frank", List.of()))).isTrue();
    }

    private static void assertRefused(String token, String detail) {
        given().header("Authorization", "Bearer " + token)
                .when().get("/api/me")
                .then().statusCode(401)
                .contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("detail", containsString(detail));
    }
}
