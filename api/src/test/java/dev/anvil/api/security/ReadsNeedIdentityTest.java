package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.BreakGlass;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.devstack.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A stranger with no token reads what the API holds (runs, model bytes, lineage, approvals, the audit log)
 * and calls the models it serves; a holder of a read token asks for a presigned URL that outlives any
 * revocation. Reads need a token with the role viewer, inference the role invoker unless the endpoint is
 * public, and presigned URLs live at most an hour.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ReadsNeedIdentityTest {
    private static final String INPUT = "{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\","
            + " \"shape\": [1, 1, 28, 28], \"data\": " + zeros(784) + "}]}";

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    private static RequestSpecification as(String token) {
        return given().spec(TestTokens.bearer(token));
    }

    private static String uploadModel() throws Exception {
        return as(TestTokens.SUBMITTER).contentType("application/octet-stream")
                .body(Files.readAllBytes(SharedData.cnnMnist())).post("/api/artifacts?mediaType=application/onnx")
                .then().statusCode(org.hamcrest.Matchers.oneOf(200, 201)).extract().path("artifact.sha256");
    }

    @Test
    void anonymousReadsAreRefused() throws Exception {
        String sha = uploadModel();
        for (String path : List.of("/api/runs", "/api/runs/some-run", "/api/pipelines", "/api/artifacts/" + sha,
                "/api/artifacts/" + sha + "/content", "/api/artifacts/" + sha + "/lineage",
                "/api/artifacts/" + sha + "/url", "/api/approvals", "/api/audit", "/api/endpoints")) {
            given().get(path).then().statusCode(401)
                    .contentType("application/problem+json")
                    .header("WWW-Authenticate", containsString("Bearer"))
                    .body("detail", containsString("token"));
        }
    }

    @Test
    void anUnknownTokenIsRefusedAndNeverReadsAsAnonymous() {
        as("anvil_not-a-real-token").get("/api/runs").then().statusCode(401)
                .body("detail", containsString("unknown or revoked"));
    }

    @Test
    void everyRoleButInvokerReadsAndAnInvokerOnlyTokenReadsNothing() throws Exception {
        String sha = uploadModel();
        for (String token : List.of(TestTokens.VIEWER, TestTokens.SUBMITTER, TestTokens.REVIEWER, TestTokens.ADMIN)) {
            as(token).get("/api/runs").then().statusCode(200);
            as(token).get("/api/artifacts/" + sha + "/content").then().statusCode(200);
        }
        as(TestTokens.INVOKER).get("/api/runs").then().statusCode(403)
                .body("detail", containsString("viewer"));
        // the schema for editors names no data and stays open
        given().get("/api/schemas/pipeline.json").then().statusCode(200);
    }

    @Test
    void aViewerMayNotChangeAnything() {
        as(TestTokens.VIEWER).contentType("application/octet-stream").body(new byte[] {1, 2, 3})
                .post("/api/artifacts").then().statusCode(403);
    }

    @Test
    void presignedUrlsLiveAtMostAnHour() throws Exception {
        String sha = uploadModel();
        as(TestTokens.VIEWER).get("/api/artifacts/" + sha + "/url?expiresIn=3601").then().statusCode(400)
                .body("detail", containsString("between 1 and 3600"));
        as(TestTokens.VIEWER).get("/api/artifacts/" + sha + "/url?expiresIn=604800").then().statusCode(400);
        as(TestTokens.VIEWER).get("/api/artifacts/" + sha + "/url?expiresIn=3600").then().statusCode(200);
    }

    @Test
    void inferenceNeedsTheInvokerRoleUnlessTheEndpointIsPublic() throws Exception {
        String sha = uploadModel();
        as(TestTokens.ADMIN).contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .put("/api/endpoints/closed-digits").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .body("public", equalTo(false));

        given().contentType("application/json").body(INPUT).post("/v2/models/closed-digits/infer")
                .then().statusCode(401).body("detail", containsString("invoker"));
        given().get("/v2/models/closed-digits").then().statusCode(401);
        given().get("/v2/models/closed-digits/ready").then().statusCode(401);
        given().contentType("application/json").body(INPUT).post("/v2/models/closed-digits/versions/1/infer")
                .then().statusCode(401);
        // a name that is not served answers the same, so probing does not list the endpoints
        given().get("/v2/models/no-such-endpoint").then().statusCode(401);
        as(TestTokens.VIEWER).contentType("application/json").body(INPUT).post("/v2/models/closed-digits/infer")
                .then().statusCode(403).body("detail", containsString("invoker"));

        as(TestTokens.INVOKER).contentType("application/json").body(INPUT).post("/v2/models/closed-digits/infer")
                .then().statusCode(200).body("model_name", equalTo("closed-digits"));
        // the protocol's server endpoints are read like a model's metadata: the invoker role reads them
        as(TestTokens.INVOKER).get("/v2").then().statusCode(200).body("extensions", equalTo(List.of("binary_tensor_data")));
        as(TestTokens.INVOKER).get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
        as(TestTokens.ADMIN).contentType("application/json").body(INPUT).post("/v2/models/closed-digits/infer")
                .then().statusCode(200);
    }

    @Test
    void aPublicEndpointAnswersAnyone() throws Exception {
        String sha = uploadModel();
        as(TestTokens.ADMIN).contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha, "public", true)))
                .put("/api/endpoints/open-digits").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .body("public", equalTo(true));
        given().contentType("application/json").body(INPUT).post("/v2/models/open-digits/infer")
                .then().statusCode(200).body("model_name", equalTo("open-digits"));
        given().get("/v2/models/open-digits").then().statusCode(200);
        // with a public endpoint served, its anonymous callers' clients may ask the server endpoints too
        given().get("/v2").then().statusCode(200).body("name", equalTo("anvil"));
        given().get("/v2/health/live").then().statusCode(200);

        // pointing it at a version again keeps it public; "public": false closes it
        as(TestTokens.ADMIN).contentType("application/json").body(Map.of("artifact", sha))
                .put("/api/endpoints/open-digits").then().statusCode(200).body("public", equalTo(true));
        as(TestTokens.ADMIN).contentType("application/json").body(Map.of("artifact", sha, "public", false))
                .put("/api/endpoints/open-digits").then().statusCode(200).body("public", equalTo(false));
        given().contentType("application/json").body(INPUT).post("/v2/models/open-digits/infer")
                .then().statusCode(401);

        as(TestTokens.ADMIN).contentType("application/json").body(Map.of("artifact", sha, "public", "yes"))
                .put("/api/endpoints/open-digits").then().statusCode(400).body("detail", containsString("public"));
    }

    private static String zeros(int n) {
        return "[" + String.join(",", java.util.Collections.nCopies(n, "0")) + "]";
    }
}
