package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A submitter uploads an HTML page with a script, hoping a reviewer opens its content URL: served on the UI's
 * origin as text/html, the script would act with the reviewer's sign-in cookie. The bytes must come back as a
 * download the browser neither renders nor sniffs.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ArtifactContentSecurityTest {
    static final String PAGE = "<!doctype html><html><body><script>fetch('/ui/approvals')</script>"
            + "<svg onload=\"alert(1)\"></svg></body></html>";

    @BeforeEach
    void anonymous() {
        TestTokens.signOut();
    }

    static String upload(String body, String mediaType) {
        return given().spec(TestTokens.bearer(TestTokens.SUBMITTER)).contentType("application/octet-stream")
                .body(body.getBytes(StandardCharsets.UTF_8)).urlEncodingEnabled(false)
                .post("/api/artifacts?mediaType=" + java.net.URLEncoder.encode(mediaType, StandardCharsets.UTF_8)).then().statusCode(org.hamcrest.Matchers.oneOf(200, 201))
                .extract().path("artifact.sha256");
    }

    static io.restassured.specification.RequestSpecification reviewer() {
        return given().spec(TestTokens.bearer(TestTokens.REVIEWER));
    }

    @Test
    void anUploadedHtmlPageIsServedAsADownloadOfOpaqueBytes() {
        String sha = upload(PAGE, "text/html");
        Response content = given().cookie("anvil_token", TestTokens.REVIEWER).get("/api/artifacts/" + sha + "/content");
        content.then().statusCode(200)
                .header("Content-Type", equalTo("application/octet-stream"))
                .header("Content-Disposition", equalTo("attachment; filename=\"" + sha + "\""))
                .header("X-Content-Type-Options", equalTo("nosniff"));
        assertThat(content.asString()).isEqualTo(PAGE);
        // the recorded type is kept as metadata; only the served type is narrowed
        given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/artifacts/" + sha).then()
                .body("mediaType", equalTo("text/html"));
    }

    @Test
    void typesABrowserWouldRunAreServedAsOctetStreamAndSafeOnesAsRecorded() {
        for (String type : new String[] {"image/svg+xml", "application/javascript", "application/xhtml+xml",
                "text/xml", "application/pdf"}) {
            String sha = upload(PAGE + "<!-- " + type + " -->", type);
            reviewer().get("/api/artifacts/" + sha + "/content").then().statusCode(200)
                    .header("Content-Type", equalTo("application/octet-stream"))
                    .header("Content-Disposition", equalTo("attachment; filename=\"" + sha + "\""));
        }
        String json = upload("{\"accuracy\": 0.97}", "application/json");
        reviewer().get("/api/artifacts/" + json + "/content").then().statusCode(200)
                .header("Content-Type", equalTo("application/json"))
                .header("Content-Disposition", equalTo("attachment; filename=\"" + json + "\""))
                .header("X-Content-Type-Options", equalTo("nosniff"));
        String onnx = upload("not really a model", "application/onnx");
        reviewer().get("/api/artifacts/" + onnx + "/content").then().header("Content-Type", equalTo("application/onnx"));
    }

    @Test
    void aPresignedUrlMakesStorageAnswerWithADownload() throws Exception {
        String sha = upload(PAGE + "<!-- presigned -->", "text/html");
        String url = given().spec(TestTokens.bearer(TestTokens.REVIEWER)).get("/api/artifacts/" + sha + "/url")
                .then().statusCode(200).extract().path("url");
        HttpResponse<String> fetched = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(fetched.statusCode()).isEqualTo(200);
        assertThat(fetched.headers().firstValue("Content-Disposition"))
                .hasValue("attachment; filename=\"" + sha + "\"");
        assertThat(fetched.body()).startsWith(PAGE);
    }
}
