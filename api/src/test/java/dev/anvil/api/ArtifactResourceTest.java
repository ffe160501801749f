package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class ArtifactResourceTest {

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void uploadStoresOnceAndDownloadsTheSameBytes() throws Exception {
        byte[] bytes = randomBytes(300_000, 1);
        String sha = sha256(bytes);

        given().contentType("application/octet-stream").body(bytes)
                .when().post("/api/artifacts?mediaType=application/x-test")
                .then().statusCode(201)
                .header("Location", containsString("/api/artifacts/" + sha))
                .body("created", equalTo(true))
                .body("artifact.sha256", equalTo(sha))
                .body("artifact.size", equalTo(bytes.length))
                .body("artifact.mediaType", equalTo("application/x-test"))
                .body("artifact.uri", equalTo("s3://anvil-api-test/sha256/" + sha.substring(0, 2) + "/" + sha));

        // the same bytes again: a no-op returning the existing artifact
        given().contentType("application/octet-stream").body(bytes)
                .when().post("/api/artifacts")
                .then().statusCode(200).body("created", equalTo(false)).body("artifact.sha256", equalTo(sha));

        given().when().get("/api/artifacts/" + sha).then().statusCode(200).body("size", equalTo(bytes.length));
        byte[] downloaded = given().when().get("/api/artifacts/" + sha + "/content")
                .then().statusCode(200).header("X-Anvil-Sha256", sha).extract().asByteArray();
        assertThat(downloaded).isEqualTo(bytes);
    }

    @Test
    void aChecksumMismatchIsRejectedAndNothingIsStored() throws Exception {
        byte[] bytes = randomBytes(50_000, 2);
        String wrong = sha256("something else".getBytes());

        given().contentType("application/octet-stream").header("X-Anvil-Sha256", wrong).body(bytes)
                .when().post("/api/artifacts")
                .then().statusCode(422)
                .contentType("application/problem+json")
                .body("detail", containsString("nothing was stored"))
                .body("errors.field", hasItem("X-Anvil-Sha256"));

        given().when().get("/api/artifacts/" + sha256(bytes)).then().statusCode(404)
                .contentType("application/problem+json");
    }

    @Test
    void curlsDefaultFormContentTypeStillStreamsTheRawBytes() throws Exception {
        byte[] bytes = "a=1&b=2 are not form fields here".getBytes();
        // a String body: RestAssured would otherwise try to form-encode the bytes itself
        given().contentType("application/x-www-form-urlencoded").body(new String(bytes))
                .when().post("/api/artifacts")
                .then().statusCode(201)
                .body("artifact.sha256", equalTo(sha256(bytes)))
                .body("artifact.mediaType", equalTo("application/octet-stream"));
    }

    @Test
    void aMediaTypeWithAnUnencodedPlusIsRefusedWithTheFix() {
        // RestAssured would encode '+' itself; the raw query is what curl sends
        given().urlEncodingEnabled(false).contentType("application/octet-stream").body("zip bytes".getBytes())
                .when().post("/api/artifacts?mediaType=application/vnd.anvil.dataset+zip")
                .then().statusCode(400)
                .body("errors[0].field", equalTo("mediaType"))
                .body("detail", containsString("%2B"));
        given().urlEncodingEnabled(false).contentType("application/octet-stream").body("zip bytes".getBytes())
                .when().post("/api/artifacts?mediaType=application/vnd.anvil.dataset%2Bzip")
                .then().statusCode(201)
                .body("artifact.mediaType", equalTo("application/vnd.anvil.dataset+zip"));
    }

    @Test
    void malformedShaNamesTheFieldWithoutLeakingInternals() {
        given().when().get("/api/artifacts/not-a-sha")
                .then().statusCode(400)
                .contentType("application/problem+json")
                .body("errors[0].field", equalTo("sha256"))
                .body("detail", containsString("64 hexadecimal digits"))
                .body(not(containsString("Exception")))
                .body(not(containsString("dev.anvil")));
    }

    @Test
    void unknownArtifactIs404WithTheFix() {
        given().when().get("/api/artifacts/" + "0".repeat(64) + "/lineage")
                .then().statusCode(404).body("detail", containsString("POST /api/artifacts"));
    }

    @Test
    void presignedUrlServesTheBytes() throws Exception {
        byte[] bytes = randomBytes(10_000, 3);
        String sha = given().contentType("application/octet-stream").body(bytes).post("/api/artifacts")
                .then().extract().path("artifact.sha256");
        String url = given().get("/api/artifacts/" + sha + "/url?expiresIn=60").then().statusCode(200)
                .extract().path("url");
        byte[] fetched = given().urlEncodingEnabled(false).get(url).then().statusCode(200).extract().asByteArray();
        assertThat(fetched).isEqualTo(bytes);

        given().get("/api/artifacts/" + sha + "/url?expiresIn=forever").then().statusCode(400)
                .body("errors[0].field", equalTo("expiresIn"));
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
