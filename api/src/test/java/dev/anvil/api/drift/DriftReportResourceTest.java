package dev.anvil.api.drift;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.DriftReportStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.TrafficChange;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GET /api/endpoints/{name}/drift and .../drift/{id}: an endpoint's drift reports over REST. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class DriftReportResourceTest {
    private static final List<Long> ids = new ArrayList<>();
    private static long otherId;

    @Inject DriftReportStore reports;
    @Inject EndpointStore endpoints;
    @Inject ModelRegistryStore registry;
    @Inject ArtifactStore artifacts;

    @BeforeEach
    void reports() {
        TestTokens.signOut();
        if (!ids.isEmpty()) {
            return;
        }
        String sha = "cd".repeat(32);
        artifacts.insert(sha, "s3://anvil/" + sha, 1, "application/vnd.onnx", null);
        registry.createModel("drift-rest", null);
        registry.registerVersion("drift-rest", sha, null, null);
        endpoints.put("drift-rest", "drift-rest", 1, null, TrafficChange.byHand("admin", null));
        endpoints.put("drift-rest-other", "drift-rest", 1, null, TrafficChange.byHand("admin", null));
        for (int i = 0; i < 3; i++) {
            boolean drifted = i == 2;
            ids.add(reports.record("drift-rest", 1, "rows", 3, drifted, drifted ? List.of("x[1]") : List.of(),
                    "{\"thresholds\": {\"psi\": 0.2}, \"check\": " + i + "}", "run-drift-rest-" + i, "check",
                    "run:run-drift-rest-" + i).report().id());
        }
        otherId = reports.record("drift-rest-other", 1, "rows", 3, false, List.of(), "{}", "run-drift-rest-other",
                "check", "run:run-drift-rest-other").report().id();
    }

    @Test
    void listsNewestFirstAPageAtATime() {
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/endpoints/drift-rest/drift").then().statusCode(200)
                .body("id", contains(ids.get(2).intValue(), ids.get(1).intValue(), ids.get(0).intValue()))
                .body("[0].drifted", equalTo(true))
                .body("[0].movedFeatures", contains("x[1]"))
                .body("[0].reportJson.thresholds.psi", equalTo(0.2f)) // a JSON value, not a string holding JSON
                .body("[0].referenceDataset", equalTo("rows"))
                .body("[0].runId", equalTo("run-drift-rest-2"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).queryParam("limit", 2).queryParam("page", 1)
                .get("/api/endpoints/drift-rest/drift").then().statusCode(200)
                .body("id", contains(ids.get(0).intValue()));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).queryParam("page", 5)
                .get("/api/endpoints/drift-rest/drift").then().statusCode(200).body("$", hasSize(0));
    }

    @Test
    void getsOneReportOfTheEndpoint() {
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/endpoints/drift-rest/drift/" + ids.get(1))
                .then().statusCode(200).body("id", equalTo(ids.get(1).intValue()))
                .body("endpoint", equalTo("drift-rest")).body("reportJson.check", equalTo(1));
    }

    @Test
    void unknownEndpointsAndReportsAre404WithAMessage() {
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/endpoints/no-such-endpoint/drift").then()
                .statusCode(404).contentType("application/problem+json")
                .body("detail", containsString("no endpoint named 'no-such-endpoint'"));
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/endpoints/drift-rest/drift/999999999").then()
                .statusCode(404).body("detail", containsString("no drift report with id '999999999' on endpoint"
                        + " 'drift-rest'"));
        // a report of another endpoint is not found under this one
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/endpoints/drift-rest/drift/" + otherId).then()
                .statusCode(404);
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).get("/api/endpoints/drift-rest/drift/abc").then()
                .statusCode(404).body("detail", containsString("no drift report with id 'abc'"));
    }

    @Test
    void badPagingIs400NamingTheField() {
        for (String[] bad : new String[][] {{"limit", "0"}, {"limit", "1001"}, {"page", "-1"}}) {
            given().spec(TestTokens.bearer(TestTokens.VIEWER)).queryParam(bad[0], bad[1])
                    .get("/api/endpoints/drift-rest/drift").then().statusCode(400)
                    .contentType("application/problem+json").body("errors[0].field", equalTo(bad[0]));
        }
        given().spec(TestTokens.bearer(TestTokens.VIEWER)).queryParam("limit", "two")
                .get("/api/endpoints/drift-rest/drift").then().statusCode(400)
                .contentType("application/problem+json");
    }

    @Test
    void readingNeedsTheRoleViewerAsTheEndpointDoes() {
        given().get("/api/endpoints/drift-rest/drift").then().statusCode(401);
        given().spec(TestTokens.bearer(TestTokens.INVOKER)).get("/api/endpoints/drift-rest/drift").then().statusCode(403);
        given().spec(TestTokens.bearer(TestTokens.INVOKER)).get("/api/endpoints/drift-rest").then().statusCode(403);
        given().spec(TestTokens.bearer(TestTokens.INVOKER)).get("/api/endpoints/drift-rest/drift/" + ids.get(0))
                .then().statusCode(403);
    }
}
