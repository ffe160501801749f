package dev.anvil.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.limits.StreamedBody;
import dev.anvil.api.problem.Problem;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.MatrixParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document is generated from the resources' annotations; this test holds every operation
 * to what its code can answer, derived from the code itself:
 * <ul>
 *   <li>every operation has a summary, a tag and a success response;</li>
 *   <li>one that needs a role ({@link RolesAllowed}) names the bearer scheme and documents 401 and 403;</li>
 *   <li>one with a path parameter documents 404 (nothing by that id or name), unless it is a PUT to the
 *       parameter itself, which creates what the path names;</li>
 *   <li>one that reads a request body documents 400 or 422 (a body can be malformed or invalid), and 413
 *       unless it is {@link StreamedBody} (BodyLimits refuses any other body over 1 MiB);</li>
 *   <li>every 4xx is a problem document ({@value Problem#MEDIA_TYPE} over the Problem schema).</li>
 * </ul>
 */
@QuarkusTest
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class OpenApiDocumentTest {
    private static final Set<Class<? extends Annotation>> NOT_A_BODY = Set.of(PathParam.class, QueryParam.class,
            HeaderParam.class, CookieParam.class, MatrixParam.class, FormParam.class, BeanParam.class, Context.class);

    @Test
    void everyOperationDocumentsItsSummaryAndTheErrorsItsCodeCanAnswer() throws Exception {
        JsonNode doc = document();
        List<String> missing = new ArrayList<>();
        int operations = 0;
        int guarded = 0;
        for (Class<?> resource : resources()) {
            String base = resource.getAnnotation(Path.class).value();
            for (Method method : resource.getDeclaredMethods()) {
                String verb = verb(method);
                if (verb == null) {
                    continue;
                }
                operations++;
                Path sub = method.getAnnotation(Path.class);
                String path = base + (sub == null ? "" : sub.value());
                String name = verb.toUpperCase() + " " + path;
                JsonNode op = doc.path("paths").path(path).path(verb);
                if (op.isMissingNode()) {
                    missing.add(name + ": not in the document");
                    continue;
                }
                if (op.path("summary").asText("").isBlank()) {
                    missing.add(name + ": no summary (@Operation(summary = ...))");
                }
                if (op.path("tags").isEmpty()) {
                    missing.add(name + ": no tag (@Tag on the resource)");
                }
                JsonNode responses = op.path("responses");
                if (!anyStartsWith(responses, "2")) {
                    missing.add(name + ": no success response");
                }
                if (method.isAnnotationPresent(RolesAllowed.class)) {
                    guarded++;
                    requireResponses(name, responses, missing, "401", "403");
                    if (!op.path("security").toString().contains("\"" + ApiDocumentFilter.BEARER + "\"")) {
                        missing.add(name + ": needs a role but names no security requirement "
                                + "(@SecurityRequirement(name = ApiDocumentFilter.BEARER))");
                    }
                }
                if (hasParameter(method, PathParam.class) && !createsAtPath(verb, path)) {
                    requireResponses(name, responses, missing, "404");
                }
                if (readsBody(method) && !responses.has("400") && !responses.has("422")) {
                    missing.add(name + ": reads a body but documents neither 400 nor 422");
                }
                if (readsBody(method) && !method.isAnnotationPresent(StreamedBody.class) && !responses.has("413")) {
                    missing.add(name + ": reads a body held to 1 MiB but does not document 413");
                }
                responses.fieldNames().forEachRemaining(status -> {
                    if (status.startsWith("4") && !isProblem(responses.path(status))) {
                        missing.add(name + ": " + status + " is not a " + Problem.MEDIA_TYPE + " Problem document");
                    }
                });
            }
        }
        assertThat(missing).as("operations whose documentation falls short of their code").isEmpty();
        assertThat(operations).as("operations checked").isGreaterThan(40);
        assertThat(guarded).as("operations needing a role").isGreaterThan(20);
    }

    @Test
    void problemSchemaAndBearerSchemeAreDefined() throws Exception {
        JsonNode components = document().path("components");
        assertThat(components.path("schemas").path(ApiDocumentFilter.SCHEMA).path("properties").properties())
                .extracting(java.util.Map.Entry::getKey)
                .contains("type", "title", "status", "detail", "instance", "errors");
        JsonNode bearer = components.path("securitySchemes").path(ApiDocumentFilter.BEARER);
        assertThat(bearer.path("type").asText()).isEqualTo("http");
        assertThat(bearer.path("scheme").asText()).isEqualTo("bearer");
        assertThat(bearer.path("description").asText()).contains("API token").contains("OIDC");
    }

    /**
     * The JSON columns the API writes as JSON values (JsonColumns: metricsJson, parametersJson, paramsJson,
     * detailsJson, analysisJson, reportJson) are objects in the document too, never strings, wherever their types appear.
     */
    @Test
    void jsonColumnsAreObjectsNotStrings() throws Exception {
        JsonNode schemas = document().path("components").path("schemas");
        java.util.Map<Class<?>, List<String>> columns = dev.anvil.api.wiring.JsonColumns.fields();
        assertThat(columns.keySet()).extracting(Class::getSimpleName)
                .containsExactly("AuditEntry", "DriftReport", "PipelineRun", "Rollout", "RunListItem", "TaskRun");
        assertThat(columns.values().stream().flatMap(List::stream))
                .contains("metricsJson", "parametersJson", "paramsJson", "detailsJson", "analysisJson", "reportJson");
        columns.forEach((type, fields) -> {
            JsonNode properties = schemas.path(type.getSimpleName()).path("properties");
            assertThat(properties.isObject()).as(type.getSimpleName() + " is in the document").isTrue();
            for (String field : fields) {
                JsonNode property = properties.path(field);
                assertThat(property.path("type").toString()).as(type.getSimpleName() + "." + field + ": " + property)
                        .contains("\"object\"").contains("\"null\"").doesNotContain("\"string\"");
                assertThat(property.path("description").asText()).contains("JSON object");
            }
            // the columns' neighbours keep their generated types
            properties.fields().forEachRemaining(e -> {
                if (!fields.contains(e.getKey()) && e.getKey().equals("id")) {
                    assertThat(e.getValue().toString()).doesNotContain("\"object\"");
                }
            });
        });
        // the answers that carry them name their schemas
        JsonNode paths = document().path("paths");
        assertThat(paths.path("/api/runs/{id}").path("get").path("responses").path("200").toString()).contains("RunWithTasks");
        assertThat(paths.path("/api/runs").path("get").path("responses").path("200").toString()).contains("RunListItem");
        assertThat(schemas.path("RunListItem").path("properties").path("waiting").toString()).contains("\"string\"");
        assertThat(paths.path("/api/rollouts/{id}").path("get").path("responses").path("200").toString()).contains("RolloutView");
        assertThat(schemas.path("RolloutView").path("properties").path("windows").toString()).contains("RolloutWindow");
        assertThat(schemas.path("RolloutWindow").path("properties").path("p95Ms").isObject()).isTrue();
    }

    @Test
    void onlyTheApiAndInferenceAreDocumented() throws Exception {
        List<String> paths = new ArrayList<>();
        document().path("paths").fieldNames().forEachRemaining(paths::add);
        assertThat(paths).isNotEmpty().allSatisfy(p -> assertThat(p).matches("/(api/.*|v2(/.*)?)"));
    }

    static List<Class<?>> resources() {
        List<Class<?>> all = new ArrayList<>(List.of(HealthAndDocsTest.RESOURCES));
        all.add(dev.anvil.api.serving.InferenceResource.class);
        all.add(dev.anvil.api.serving.InferenceServerResource.class);
        all.add(dev.anvil.api.tasks.TaskCallbackResource.class);
        return all;
    }

    private static JsonNode document() throws Exception {
        String json = given().get("/q/openapi?format=json").then().statusCode(200).extract().asString();
        return new ObjectMapper().readTree(json);
    }

    private static String verb(Method m) {
        return m.isAnnotationPresent(GET.class) ? "get" : m.isAnnotationPresent(POST.class) ? "post"
                : m.isAnnotationPresent(PUT.class) ? "put" : m.isAnnotationPresent(DELETE.class) ? "delete" : null;
    }

    private static boolean createsAtPath(String verb, String path) {
        return verb.equals("put") && path.endsWith("}");
    }

    private static boolean hasParameter(Method m, Class<? extends Annotation> kind) {
        for (Parameter p : m.getParameters()) {
            if (p.isAnnotationPresent(kind)) {
                return true;
            }
        }
        return false;
    }

    /** A parameter without a JAX-RS source annotation is the request body. */
    private static boolean readsBody(Method m) {
        for (Parameter p : m.getParameters()) {
            if (NOT_A_BODY.stream().noneMatch(p::isAnnotationPresent)) {
                return true;
            }
        }
        return false;
    }

    private static void requireResponses(String op, JsonNode responses, List<String> missing, String... statuses) {
        for (String status : statuses) {
            if (!responses.has(status)) {
                missing.add(op + ": does not document " + status);
            }
        }
    }

    private static boolean anyStartsWith(JsonNode responses, String prefix) {
        List<String> statuses = new ArrayList<>();
        responses.fieldNames().forEachRemaining(statuses::add);
        return statuses.stream().anyMatch(s -> s.startsWith(prefix));
    }

    private static boolean isProblem(JsonNode response) {
        return response.path("content").path(Problem.MEDIA_TYPE).path("schema").path("$ref").asText()
                .equals("#/components/schemas/" + ApiDocumentFilter.SCHEMA);
    }
}
