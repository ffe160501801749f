package dev.anvil.api.airflow;

import static dev.anvil.api.airflow.AirflowFixtures.as;
import static dev.anvil.api.airflow.AirflowFixtures.json;
import static dev.anvil.api.airflow.AirflowSchema.conforms;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.startsWith;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.api.auth.TestOidcProvider;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.List;
import java.util.Map;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** POST /auth/token, the unauthenticated version and health routes, and Airflow's 401/403/404 shapes. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class AirflowAuthApiTest {

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void aUsernameAndItsApiTokenGetAnAccessTokenThatWorksAsBearer() {
        String token = conforms(given().contentType(ContentType.JSON)
                .body(Map.of("username", "demo-viewer", "password", TestTokens.VIEWER))
                .post("/auth/token").then().statusCode(201), "Token").extract().path("access_token");
        as(token).get("/api/v2/dags").then().statusCode(200);
        // the form body Airflow's simple auth manager also takes
        given().contentType(ContentType.URLENC).formParam("username", "demo-admin").formParam("password", TestTokens.ADMIN)
                .post("/auth/token").then().statusCode(201).body("access_token", equalTo(TestTokens.ADMIN));
    }

    @Test
    void badCredentialsAndBadBodiesAreRefusedAsAirflowDoes() {
        conforms(given().contentType(ContentType.JSON).body(Map.of("username", "demo-admin", "password", TestTokens.VIEWER))
                .post("/auth/token").then().statusCode(401), "HTTPExceptionResponse").body("detail", equalTo("Invalid credentials"));
        given().contentType(ContentType.JSON).body(Map.of("username", "demo-admin", "password", "nope"))
                .post("/auth/token").then().statusCode(401).body("detail", equalTo("Invalid credentials"));
        given().contentType(ContentType.JSON).body(Map.of("username", "", "password", ""))
                .post("/auth/token").then().statusCode(400);
        conforms(given().contentType(ContentType.JSON).body(Map.of("username", "demo-admin"))
                .post("/auth/token").then().statusCode(422), "HTTPValidationError")
                .body("detail[0].type", equalTo("missing")).body("detail[0].loc", equalTo(java.util.List.of("body", "password")));
        conforms(given().contentType(ContentType.JSON)
                .body(Map.of("username", "demo-admin", "password", TestTokens.ADMIN, "role", "admin"))
                .post("/auth/token").then().statusCode(422), "HTTPValidationError")
                .body("detail.type", hasItem("extra_forbidden"));
        given().contentType(ContentType.TEXT).body("username=x").post("/auth/token").then().statusCode(415);
        given().get("/auth/token").then().statusCode(403);
    }

    @Test
    void versionAndHealthNeedNoToken() {
        conforms(given().get("/api/v2/version").then().statusCode(200), "VersionInfo").body("version", startsWith("3."));
        conforms(given().get("/api/v2/monitor/health").then().statusCode(200), "HealthInfo")
                .body("metadatabase.status", equalTo("healthy")).body("scheduler.status", equalTo("healthy"));
    }

    @Test
    void aMissingBearerIs401AndAnInvalidOneIs403WithAirflowsDetail() {
        String body = given().get("/api/v2/dags").then().statusCode(401).header("WWW-Authenticate", startsWith("Bearer"))
                .contentType(ContentType.JSON).body("detail", equalTo("Not authenticated")).extract().asString();
        AirflowSchema.assertConforms("HTTPExceptionResponse", body);
        as("not-a-token").get("/api/v2/dags").then().statusCode(403).contentType(ContentType.JSON)
                .body("detail", equalTo("Invalid JWT token"));
        as("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln").get("/api/v2/dags").then().statusCode(403)
                .body("detail", equalTo("Invalid JWT token"));
        // Anvil's own API keeps its problem documents
        given().get("/api/pipelines").then().statusCode(401).contentType("application/problem+json");
    }

    @Test
    void anOidcJwtIsABearerTooAndAnExpiredOneIs401TokenExpired() {
        TestOidcProvider provider = TestOidcProvider.shared();
        as(provider.token("vera", List.of("anvil-viewer"))).get("/api/v2/dags").then().statusCode(200);
        as(provider.token("vera", List.of("anvil-viewer"))).contentType(ContentType.JSON)
                .body(Map.of("is_paused", true)).patch("/api/v2/dags/anything").then().statusCode(403);
        String expired = provider.token(c -> c.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 300)));
        as(expired).get("/api/v2/dags").then().statusCode(401).header("WWW-Authenticate", startsWith("Bearer"))
                .body("detail", equalTo("Token Expired"));
    }

    @Test
    void aRoleTheEndpointDoesNotAllowIs403AndAnUnknownDagIs404BothAsDetail() {
        AirflowFixtures.registerSleeper("af-auth-roles");
        String forbidden = json(TestTokens.VIEWER).body(Map.of("logical_date", "2026-01-01T00:00:00Z"))
                .post("/api/v2/dags/af-auth-roles/dagRuns").then().statusCode(403).contentType(ContentType.JSON)
                .extract().asString();
        AirflowSchema.assertConforms("HTTPExceptionResponse", forbidden);
        assertThat(forbidden).doesNotContain("\"type\"").doesNotContain("\"title\"");
        json(TestTokens.INVOKER).get("/api/v2/dags").then().statusCode(403);
        conforms(as(TestTokens.VIEWER).get("/api/v2/dags/no-such-dag").then().statusCode(404), "HTTPExceptionResponse")
                .body("detail", equalTo("The Dag with ID: `no-such-dag` was not found"));
        as(TestTokens.VIEWER).get("/api/v2/no-such-route").then().statusCode(404).contentType(ContentType.JSON);
    }
}
