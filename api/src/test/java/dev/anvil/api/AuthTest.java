package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import dev.anvil.db.ApiTokenStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class AuthTest {
    @Inject ApiTokenStore tokens;

    private static final String SPEC = """
            pipeline: auth-check
            tasks:
              only: {operator: noop}
            """;

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    @Test
    void aMutatingCallWithoutATokenIs401ProblemJson() {
        given().contentType("application/yaml").body(SPEC.getBytes(java.nio.charset.StandardCharsets.UTF_8)).put("/api/pipelines/auth-check")
                .then().statusCode(401).contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("detail", containsString("PUT /api/pipelines/auth-check needs an API token with the role submitter or admin"));
        given().post("/api/runs/nothing/cancel").then().statusCode(401);
        given().contentType("application/octet-stream").body(new byte[] {1, 2, 3}).post("/api/artifacts")
                .then().statusCode(401);
    }

    @Test
    void aTokenWithoutTheRoleIs403NamingTheRole() {
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).contentType("application/yaml").body(SPEC.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/auth-check")
                .then().statusCode(403).contentType("application/problem+json")
                .body("detail", containsString("'demo-reviewer' (roles [viewer, reviewer]) may not PUT /api/pipelines/auth-check"))
                .body("detail", containsString("submitter or admin"));
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json")
                .body(Map.of("principal", "eve", "roles", List.of("admin"))).post("/api/tokens")
                .then().statusCode(403).body("detail", containsString("needs the role admin"));
    }

    @Test
    void anUnknownTokenIsRefusedEvenOnReads() {
        given().spec(TestTokens.bearer("anvil_not-a-token")).get("/api/runs")
                .then().statusCode(401).body("detail", containsString("unknown or revoked"));
        given().get("/api/runs").then().statusCode(401); // reads need a token too
    }

    @Test
    void theSubmitterIsRecordedOnTheRun() {
        given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/yaml").body(SPEC.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .put("/api/pipelines/auth-check").then().statusCode(201);
        String run = given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/json")
                .body(Map.of()).post("/api/pipelines/auth-check/runs").then().statusCode(201).extract().path("run");
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/runs/" + run).then().statusCode(200).body("run.submittedBy", equalTo("demo-submitter"));
    }

    @Test
    void anAdminMakesATokenThatWorksAndIsShownOnce() {
        String token = given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("principal", "rita", "roles", List.of("reviewer"), "label", "laptop"))
                .post("/api/tokens").then().statusCode(201).body("principal", equalTo("rita"))
                .extract().path("token");
        given().spec(TestTokens.bearer(token)).get("/api/me").then().statusCode(200)
                .body("principal", equalTo("rita")).body("roles", hasItems("reviewer"));
        given().get("/api/me").then().statusCode(401);
    }

    @Test
    void aRevokedTokenIsRefusedOnceTheCacheTtlHasPassed() {
        String token = given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("principal", "sam", "roles", List.of("reviewer"))).post("/api/tokens")
                .then().statusCode(201).extract().path("token");
        given().spec(TestTokens.bearer(token)).get("/api/me").then().statusCode(200);
        assertThat(tokens.revoke(ApiTokenStore.hash(token))).isTrue();
        // trusted from the cache for at most anvil.auth.token-cache-ttl (5 s), then refused
        await("the revoked token refused").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
                .until(() -> given().spec(TestTokens.bearer(token)).get("/api/me").statusCode(), status -> status != 200);
        given().spec(TestTokens.bearer(token)).get("/api/me").then().statusCode(401);
    }

    @Test
    void badTokenRequestsNameTheField() {
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("principal", "x", "roles", List.of("root"))).post("/api/tokens")
                .then().statusCode(400).body("errors[0].field", equalTo("roles"))
                .body("detail", containsString("unknown role 'root'"));
        given().spec(TestTokens.bearer(TestTokens.ADMIN)).contentType("application/json")
                .body(Map.of("roles", List.of("reviewer"))).post("/api/tokens")
                .then().statusCode(400).body("errors[0].field", equalTo("principal"));
    }

    /** A new POST/PUT/DELETE endpoint without @RolesAllowed fails here, before it ships unguarded. */
    @Test
    void everyMutatingEndpointNamesItsRoles() {
        List<String> unguarded = new ArrayList<>();
        for (Class<?> resource : HealthAndDocsTest.RESOURCES) {
            for (Method m : resource.getDeclaredMethods()) {
                boolean mutating = m.isAnnotationPresent(POST.class) || m.isAnnotationPresent(PUT.class)
                        || m.isAnnotationPresent(DELETE.class);
                if (mutating && !m.isAnnotationPresent(RolesAllowed.class)) {
                    unguarded.add(resource.getSimpleName() + "." + m.getName());
                }
            }
        }
        assertThat(unguarded).isEmpty();
    }

    /**
     * Every operation of the API and the inference gateway says who may call it: a role, or a deliberate
     * {@code @PermitAll} (which then checks the caller in code, or is public by design). A new read added
     * without either fails here instead of serving data to anyone.
     */
    @Test
    void everyOperationSaysWhoMayCallIt() {
        List<Class<?>> resources = new ArrayList<>(List.of(HealthAndDocsTest.RESOURCES));
        resources.add(dev.anvil.api.serving.InferenceResource.class);
        resources.add(dev.anvil.api.serving.InferenceServerResource.class);
        // the external trainer's callbacks: @PermitAll, the task-scoped token in the path is the credential
        resources.add(dev.anvil.api.tasks.TaskCallbackResource.class);
        List<String> unstated = new ArrayList<>();
        for (Class<?> resource : resources) {
            for (Method m : resource.getDeclaredMethods()) {
                boolean operation = m.isAnnotationPresent(jakarta.ws.rs.GET.class) || m.isAnnotationPresent(POST.class)
                        || m.isAnnotationPresent(PUT.class) || m.isAnnotationPresent(DELETE.class)
                        || m.isAnnotationPresent(jakarta.ws.rs.PATCH.class) || m.isAnnotationPresent(jakarta.ws.rs.HEAD.class);
                boolean stated = m.isAnnotationPresent(RolesAllowed.class)
                        || m.isAnnotationPresent(jakarta.annotation.security.PermitAll.class)
                        || m.isAnnotationPresent(io.quarkus.security.Authenticated.class);
                if (operation && !stated) {
                    unstated.add(resource.getSimpleName() + "." + m.getName());
                }
            }
        }
        assertThat(unstated).as("operations that name no role and are not deliberately open").isEmpty();
    }
}
