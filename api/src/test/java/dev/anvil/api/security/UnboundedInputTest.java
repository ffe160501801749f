package dev.anvil.api.security;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Requests built to exhaust memory, CPU or the scheduler are refused quickly, each naming the limit. */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class UnboundedInputTest {
    private static final Duration QUICKLY = Duration.ofSeconds(5);

    @BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    /** About 30 MB of tasks: a spec no one writes by hand, which once kept a core busy for minutes. */
    private static byte[] hugeSpec() {
        StringBuilder spec = new StringBuilder(31_000_000).append("pipeline: huge\ntasks:\n");
        for (int i = 0; spec.length() < 30_000_000; i++) {
            spec.append("  t").append(i).append(": {operator: noop}\n");
        }
        return spec.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Timed with the JDK's client: RestAssured itself spends tens of seconds preparing a 30 MB body. */
    @Test
    void aThirtyMegabyteSpecIsRefusedBeforeItIsRead() throws Exception {
        byte[] spec = hugeSpec();
        HttpRequest put = HttpRequest.newBuilder(URI.create("http://localhost:" + RestAssured.port + "/api/pipelines/huge"))
                .header("Content-Type", "application/yaml").header("Authorization", "Bearer " + TestTokens.ADMIN)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(spec)).timeout(Duration.ofMinutes(10)).build();
        long start = System.nanoTime();
        HttpResponse<String> response = HttpClient.newHttpClient().send(put, HttpResponse.BodyHandlers.ofString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.printf("30 MB spec (%d bytes) answered %d in %d ms; curl: %s%n", spec.length, response.statusCode(),
                took.toMillis(), curlPut(spec));

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(response.body()).contains("at most 1048576 bytes");
        assertThat(took).isLessThan(QUICKLY);
    }

    /** The same request from curl, for a figure anyone can reproduce against a running server. */
    private static String curlPut(byte[] body) {
        try {
            java.nio.file.Path file = java.nio.file.Files.createTempFile("huge-spec", ".yaml");
            java.nio.file.Files.write(file, body);
            Process curl = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} in %{time_total}s",
                    "-X", "PUT", "-H", "Content-Type: application/yaml", "-H", "Authorization: Bearer " + TestTokens.ADMIN,
                    "--data-binary", "@" + file, "http://localhost:" + RestAssured.port + "/api/pipelines/huge")
                    .redirectErrorStream(true).start();
            String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            curl.waitFor();
            java.nio.file.Files.delete(file);
            return out;
        } catch (java.io.IOException | InterruptedException e) {
            return "not measured: " + e;
        }
    }

    @Test
    void aChunkedBodyWithoutLengthIsCutOffAtTheLimit() {
        given().contentType("application/yaml").body(new ByteArrayInputStream(hugeSpec())).put("/api/pipelines/huge")
                .then().statusCode(413).contentType("application/problem+json")
                .body("detail", containsString("at most 1048576 bytes"));
    }

    @Test
    void artifactUploadsStillStreamPastTheLimit() {
        byte[] twoMiB = new byte[2 * 1024 * 1024];
        twoMiB[0] = 42;
        given().contentType("application/octet-stream").body(twoMiB).post("/api/artifacts")
                .then().statusCode(org.hamcrest.Matchers.oneOf(200, 201)).body("artifact.size", equalTo(twoMiB.length));
    }

    @Test
    void aYamlAliasBombIsRefusedQuickly() {
        StringBuilder bomb = new StringBuilder("pipeline: bomb\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        for (char level = 'b'; level <= 'i'; level++) {
            char previous = (char) (level - 1);
            bomb.append(level).append(": &").append(level).append(" [")
                    .append(String.join(",", java.util.Collections.nCopies(9, "*" + previous))).append("]\n");
        }
        bomb.append("tasks: {t: {operator: noop}}\n");
        long start = System.nanoTime();
        given().contentType("application/yaml").body(bomb.toString().getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/bomb")
                .then().statusCode(422).body("detail", containsString("more than 50 YAML aliases"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(QUICKLY);
    }

    @Test
    void aBackfillOverTheCapIsRefusedAndAQueuedOneCanBeCancelled() {
        given().contentType("application/yaml").body("""
                pipeline: every-minute
                schedule: "* * * * *"
                tasks: {t: {operator: noop}}
                """.getBytes(StandardCharsets.UTF_8)).put("/api/pipelines/every-minute").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201));
        given().post("/api/pipelines/every-minute/pause").then().statusCode(200);

        long start = System.nanoTime();
        given().contentType("application/json").body(Map.of("from", "2000-01-01T00:00:00Z", "to", "2026-01-01T00:00:00Z"))
                .post("/api/pipelines/every-minute/backfill")
                .then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("at most 1000"))
                .body("detail", containsString("would make about 136"))
                .body("errors[0].field", equalTo("to"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(QUICKLY);

        given().delete("/api/pipelines/every-minute/backfill")
                .then().statusCode(200).body("pipeline", equalTo("every-minute"));
        given().delete("/api/pipelines/no-such-pipeline/backfill").then().statusCode(404);
    }

    @Test
    void aQueryParameterThatIsNotANumberIsABadRequestNamingIt() {
        given().get("/api/runs?limit=abc").then().statusCode(400).contentType("application/problem+json")
                .body("errors[0].field", equalTo("limit"))
                .body("detail", containsString("'limit' must be a whole number, got 'abc'"));
        given().get("/api/runs?page=-1").then().statusCode(400).body("errors[0].field", equalTo("page"));
        given().get("/api/audit?limit=1e9").then().statusCode(400).body("errors[0].field", equalTo("limit"));
    }
}
