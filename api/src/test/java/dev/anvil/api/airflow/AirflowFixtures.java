package dev.anvil.api.airflow;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import dev.anvil.api.TestTokens;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** Pipelines registered through Anvil's own API, then read and driven through the Airflow-compatible one. */
final class AirflowFixtures {
    private AirflowFixtures() {
    }

    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    static RequestSpecification admin() {
        return as(TestTokens.ADMIN);
    }

    static RequestSpecification json(String token) {
        return as(token).contentType(ContentType.JSON);
    }

    /** Registers {@code spec} as pipeline {@code name} (the spec's own name line is added). */
    static void register(String name, String body) {
        String spec = "pipeline: " + name + "\n" + body;
        admin().contentType("application/yaml").body(spec.getBytes(StandardCharsets.UTF_8))
                .put("/api/pipelines/" + name).then().statusCode(org.hamcrest.Matchers.anyOf(
                        org.hamcrest.Matchers.is(201), org.hamcrest.Matchers.is(200)));
    }

    /** A pipeline that sleeps {@code params.secs} (0.1 by default; a negative number fails it) then reports. */
    static void registerSleeper(String name) {
        register(name, """
                description: sleeps, then reports
                params: {secs: 0.1}
                tasks:
                  nap:    {operator: sleep, with: {seconds: "${params.secs}"}}
                  report: {operator: noop, upstream: [nap]}
                """);
    }

    static String awaitTerminal(String dag, String runId) {
        return await("run " + runId + " ended").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300))
                .until(() -> admin().get("/api/v2/dags/" + dag + "/dagRuns/" + runId).then().statusCode(200)
                        .extract().<String>path("state"), s -> List.of("success", "failed").contains(s));
    }
}
