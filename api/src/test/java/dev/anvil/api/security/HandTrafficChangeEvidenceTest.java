package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.anvil.api.ApprovedCandidates;
import dev.anvil.api.BreakGlass;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.OnnxModel;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hamcrest.Matchers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rollouts were admitted only with evidence, but an admin's hand-steering endpoints were not: PUT
 * /api/endpoints/{name} (create, or another stable version), PUT .../canary, POST .../canary/weight and POST
 * .../canary/promote put any uploaded model on traffic with no gate, no approval and no break-glass record.
 * Each change that puts a version on traffic it did not have now needs its artifact's evidence (signed
 * attestation, passed gate over a validation of it, another person's approval) or a break-glass reason,
 * audited as endpoint.break_glass and shown on the UI's Endpoints page; a version with another input/output
 * signature is refused glass broken or not; taking traffic away needs nothing.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class HandTrafficChangeEvidenceTest {
    private static final Map<String, Object> GLASS = Map.of("reason", "hotfix for the outage, pipeline after");

    @BeforeEach
    void eachCallNamesItsCaller() {
        TestTokens.signOut();
    }

    @Test
    void anAdminCannotPutAnUnapprovedModelOnTrafficByHand() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String unapproved = upload(ApprovedCandidates.twin(model, "hand-unapproved"));
        // the attack that worked: create an endpoint serving any upload
        admin().contentType("application/json").body(Map.of("artifact", unapproved))
                .put("/api/endpoints/hand-new").then().statusCode(403)
                .body("title", equalTo("Forbidden"))
                .body("detail", containsString("artifact " + unapproved + " may not serve endpoint 'hand-new'"))
                .body("detail", containsString("has no signed attestation"))
                .body("detail", containsString("\"break_glass\": {\"reason\":"));
        admin().get("/api/endpoints/hand-new").then().statusCode(404);

        endpointByBreakingGlass("hand-steer", model);
        String other = upload(ApprovedCandidates.twin(model, "hand-steer-other"));
        admin().contentType("application/json").body(Map.of("model", "hand-steer", "artifact", other))
                .put("/api/endpoints/hand-steer").then().statusCode(403).body("detail", containsString("has no signed attestation"));
        admin().contentType("application/json").body(Map.of("artifact", other, "weight", 50))
                .put("/api/endpoints/hand-steer/canary").then().statusCode(403).body("detail", containsString("break_glass"));
        admin().get("/api/endpoints/hand-steer").then().statusCode(200)
                .body("stable.version", equalTo(1)).body("canary", nullValue());

        // a canary set at weight 0 with a reason still needs one for every step that gives it traffic
        admin().contentType("application/json").body(BreakGlass.with(Map.of("artifact", other, "weight", 0)))
                .put("/api/endpoints/hand-steer/canary").then().statusCode(200).body("canary.weight", equalTo(0));
        admin().contentType("application/json").body(Map.of("weight", 100))
                .post("/api/endpoints/hand-steer/canary/weight").then().statusCode(403)
                .body("detail", containsString("has no signed attestation"));
        admin().post("/api/endpoints/hand-steer/canary/promote").then().statusCode(403)
                .body("detail", containsString("has no signed attestation"));
        admin().get("/api/endpoints/hand-steer").then().statusCode(200)
                .body("stable.version", equalTo(1)).body("canary.weight", equalTo(0));
    }

    @Test
    void withAReasonItIsAllowedAuditedAndShownOnTheEndpointsPage() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        String stable = upload(model);
        admin().contentType("application/json").body(Map.of("artifact", stable, "break_glass", Map.of("reason", " ")))
                .put("/api/endpoints/hand-glass").then().statusCode(400).body("errors[0].field", equalTo("break_glass"));
        admin().contentType("application/json").body(Map.of("artifact", stable, "break_glass", GLASS))
                .put("/api/endpoints/hand-glass").then().statusCode(201);
        String canary = upload(ApprovedCandidates.twin(model, "hand-glass-canary"));
        admin().contentType("application/json").body(Map.of("artifact", canary, "weight", 10, "break_glass", GLASS))
                .put("/api/endpoints/hand-glass/canary").then().statusCode(200).body("canary.version", equalTo(2));
        admin().contentType("application/json").body(Map.of("weight", 50, "break_glass", GLASS))
                .post("/api/endpoints/hand-glass/canary/weight").then().statusCode(200).body("canary.weight", equalTo(50));
        admin().contentType("application/json").body(Map.of("break_glass", GLASS))
                .post("/api/endpoints/hand-glass/canary/promote").then().statusCode(200)
                .body("stable.version", equalTo(2)).body("canary", nullValue());

        JsonPath audit = admin().queryParam("subject", "endpoint:hand-glass").get("/api/audit").then().statusCode(200)
                .extract().jsonPath();
        List<Map<String, Object>> glass = audit.getList("findAll { it.action == 'endpoint.break_glass' }");
        assertThat(glass).hasSize(4).allSatisfy(row -> {
            assertThat(row.get("actor")).isEqualTo("demo-admin");
            assertThat(dev.anvil.api.JsonValues.text(row.get("detailsJson"))).contains("hotfix for the outage, pipeline after");
        });
        assertThat(glass).extracting(row -> dev.anvil.api.JsonValues.text(row.get("detailsJson"))).anySatisfy(d -> assertThat(d)
                .contains("\"change\":\"endpoint.created\"", "\"version\":1", "\"artifact\":\"" + stable + "\""))
                .anySatisfy(d -> assertThat(d).contains("\"change\":\"endpoint.canary.set\"", "\"version\":2",
                        "\"artifact\":\"" + canary + "\""))
                .anySatisfy(d -> assertThat(d).contains("\"change\":\"endpoint.canary.weight_changed\"", "\"weight\":50"))
                .anySatisfy(d -> assertThat(d).contains("\"change\":\"endpoint.canary.promoted\"", "\"version\":2"));

        given().cookie("anvil_token", TestTokens.VIEWER).get("/ui/endpoints").then().statusCode(200)
                .body(containsString("Break glass by hand: <b>demo-admin</b> created the endpoint serving version 1"))
                .body(containsString("Break glass by hand: <b>demo-admin</b> set as canary version 2"))
                .body(containsString("Break glass by hand: <b>demo-admin</b> promoted canary version 2"))
                .body(containsString("Reason: <q>hotfix for the outage, pipeline after</q>"));
    }

    @Test
    void aModelWhoseRunPassedItsGateAndAnotherPersonsApprovalNeedsNoReason() throws Exception {
        String approved = ApprovedCandidates.of("hand-approved");
        admin().contentType("application/json").body(Map.of("model", "hand-approved", "artifact", approved))
                .put("/api/endpoints/hand-approved").then().statusCode(201).body("stable.artifact", equalTo(approved));

        endpointByBreakingGlass("hand-approved-canary", Files.readAllBytes(SharedData.cnnMnist()));
        admin().contentType("application/json").body(Map.of("artifact", approved, "weight", 5))
                .put("/api/endpoints/hand-approved-canary/canary").then().statusCode(200).body("canary.weight", equalTo(5));
        admin().contentType("application/json").body(Map.of("weight", 60))
                .post("/api/endpoints/hand-approved-canary/canary/weight").then().statusCode(200);
        admin().post("/api/endpoints/hand-approved-canary/canary/promote").then().statusCode(200)
                .body("stable.artifact", equalTo(approved));

        assertThat(actions("endpoint:hand-approved")).contains("endpoint.created").doesNotContain("endpoint.break_glass");
        // only the fixture's stable version broke glass, not the approved canary's steps
        assertThat(actions("endpoint:hand-approved-canary")).containsOnlyOnce("endpoint.break_glass")
                .contains("endpoint.canary.set", "endpoint.canary.weight_changed", "endpoint.canary.promoted");
    }

    @Test
    void aVersionWhoseSignatureDiffersIsRefusedNamingBothEvenWhenGlassIsBroken() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        endpointByBreakingGlass("hand-shaped", model);
        OnnxModel wider = OnnxModel.parse(model);
        wider.graph().proto().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder()
                .getDimBuilder(2).setDimValue(32);
        String widerSha = upload(wider.toBytes());
        admin().contentType("application/json").body(Map.of("model", "hand-shaped", "artifact", widerSha, "break_glass", GLASS))
                .put("/api/endpoints/hand-shaped").then().statusCode(409)
                .body("detail", containsString("the endpoint serves inputs [input_image: float32["))
                .body("detail", containsString(",1,28,28]]"))
                .body("detail", containsString("the candidate has inputs [input_image: float32["))
                .body("detail", containsString(",1,32,28]]"));
        admin().contentType("application/json").body(Map.of("artifact", widerSha, "weight", 10, "break_glass", GLASS))
                .put("/api/endpoints/hand-shaped/canary").then().statusCode(409)
                .body("detail", containsString(",1,32,28]]"));
        admin().get("/api/endpoints/hand-shaped").then().statusCode(200)
                .body("stable.version", equalTo(1)).body("canary", nullValue());
    }

    @Test
    void takingTrafficAwayOrChangingOnlyPublicNeedsNothing() throws Exception {
        byte[] model = Files.readAllBytes(SharedData.cnnMnist());
        endpointByBreakingGlass("hand-away", model);
        admin().contentType("application/json")
                .body(BreakGlass.with(Map.of("artifact", upload(ApprovedCandidates.twin(model, "hand-away-canary")), "weight", 50)))
                .put("/api/endpoints/hand-away/canary").then().statusCode(200);
        long before = actions("endpoint:hand-away").stream().filter("endpoint.break_glass"::equals).count();

        admin().contentType("application/json").body(Map.of("weight", 10))
                .post("/api/endpoints/hand-away/canary/weight").then().statusCode(200).body("canary.weight", equalTo(10));
        admin().delete("/api/endpoints/hand-away/canary").then().statusCode(200).body("canary", nullValue());
        admin().contentType("application/json").body(Map.of("model", "hand-away", "public", true))
                .put("/api/endpoints/hand-away").then().statusCode(200).body("public", equalTo(true));
        admin().delete("/api/endpoints/hand-away").then().statusCode(204);

        assertThat(actions("endpoint:hand-away")).contains("endpoint.canary.weight_changed", "endpoint.canary.removed",
                "endpoint.updated", "endpoint.deleted");
        assertThat(actions("endpoint:hand-away").stream().filter("endpoint.break_glass"::equals).count()).isEqualTo(before);
    }

    /** An endpoint serving cnn_mnist (an upload, so without evidence): the admin breaks glass, as a fixture. */
    private static void endpointByBreakingGlass(String name, byte[] model) {
        Map<String, Object> body = new LinkedHashMap<>(BreakGlass.with(Map.of("model", name, "artifact", upload(model))));
        admin().contentType("application/json").body(body).put("/api/endpoints/" + name).then().statusCode(201);
    }

    private static RequestSpecification admin() {
        return given().spec(TestTokens.bearer(TestTokens.ADMIN));
    }

    private static String upload(byte[] bytes) {
        return admin().contentType("application/octet-stream").body(bytes)
                .post("/api/artifacts?mediaType=application/onnx").then().statusCode(Matchers.oneOf(200, 201))
                .extract().path("artifact.sha256");
    }

    private static List<String> actions(String subject) {
        return admin().queryParam("subject", subject).get("/api/audit").then().statusCode(200).extract().jsonPath()
                .getList("action");
    }
}
