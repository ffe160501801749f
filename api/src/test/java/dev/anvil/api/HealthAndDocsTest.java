package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class HealthAndDocsTest {
    /** Every JAX-RS resource under /api. */
    static final Class<?>[] RESOURCES = {
            dev.anvil.api.artifacts.ArtifactResource.class,
            dev.anvil.api.datasets.DatasetResource.class,
            dev.anvil.api.models.InspectModelResource.class,
            dev.anvil.api.runs.RunResource.class,
            dev.anvil.api.runs.TaskLogResource.class,
            dev.anvil.api.pipelines.PipelineResource.class,
            dev.anvil.api.pipelines.SchemaResource.class,
            dev.anvil.api.auth.TokenResource.class,
            dev.anvil.api.approvals.ApprovalResource.class,
            dev.anvil.api.auth.AuditResource.class,
            dev.anvil.api.provenance.ProvenanceResource.class,
            dev.anvil.api.serving.EndpointResource.class,
            dev.anvil.api.serving.EndpointDriftResource.class,
            dev.anvil.api.serving.RolloutResource.class,
            dev.anvil.api.webhooks.WebhookResource.class};

    @org.junit.jupiter.api.BeforeEach
    void signIn() {
        TestTokens.signInAs(TestTokens.ADMIN);
    }

    @Test
    void readyWhenTemporalS3AndPostgresAnswer() {
        given().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItems("postgresql", "temporal", "s3"))
                // the local dev server has no Temporal Schedules: pipelines are scheduled on durable timers
                .body("checks.find { it.name == 'temporal' }.data.schedules", equalTo("timer"));
    }

    @Test
    void swaggerUiLoadsItsAssetsAndTheDocument() {
        given().get("/q/swagger-ui").then().statusCode(200).body(containsString("/q/openapi"));
        given().get("/q/swagger-ui/swagger-ui-bundle.js").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200).body(containsString("openapi: 3.1"));
    }

    /**
     * The OpenAPI document is generated from the resources; every REST endpoint must be in it, and nothing
     * else (the reviewer UI's pages stay out). OpenApiDocumentTest checks what each operation documents.
     */
    @Test
    @SuppressWarnings("unchecked")
    void openApiDocumentListsEveryEndpoint() {
        String yaml = given().get("/q/openapi").then().statusCode(200).extract().asString();
        Map<String, Object> doc = new Yaml().load(yaml);
        Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) doc.get("paths");

        List<String> documented = new ArrayList<>();
        paths.forEach((path, ops) -> ops.keySet().forEach(op -> documented.add(op.toUpperCase() + " " + path)));
        List<Class<?>> all = new java.util.ArrayList<>(List.of(RESOURCES));
        all.add(dev.anvil.api.serving.InferenceResource.class);
        all.add(dev.anvil.api.serving.InferenceServerResource.class);
        all.add(dev.anvil.api.tasks.TaskCallbackResource.class);
        assertThat(documented).containsExactlyInAnyOrderElementsOf(endpoints(all.toArray(new Class<?>[0])));
    }

    @Test
    void unknownPathsAnswerWithProblemJson() {
        given().get("/api/nothing-here").then().statusCode(404)
                .contentType("application/problem+json")
                .body("detail", containsString("/q/openapi"));
    }

    private static List<String> endpoints(Class<?>... resources) {
        List<String> endpoints = new ArrayList<>();
        for (Class<?> resource : resources) {
            String base = resource.getAnnotation(Path.class).value();
            for (Method m : resource.getDeclaredMethods()) {
                String verb = m.isAnnotationPresent(GET.class) ? "GET" : m.isAnnotationPresent(POST.class) ? "POST"
                        : m.isAnnotationPresent(PUT.class) ? "PUT"
                        : m.isAnnotationPresent(jakarta.ws.rs.DELETE.class) ? "DELETE" : null;
                if (verb != null) {
                    Path sub = m.getAnnotation(Path.class);
                    endpoints.add(verb + " " + base + (sub == null ? "" : sub.value()));
                }
            }
        }
        return endpoints;
    }
}
