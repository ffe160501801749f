package dev.anvil.api;

import dev.anvil.api.problem.Problem;
import dev.anvil.api.wiring.JsonColumns;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;

/**
 * The generated OpenAPI document's finishing touch: every error response is a problem document: resources annotate an error with
 * its status and why it happens ({@code @APIResponse(responseCode = "404", description = "...")}), and
 * this filter gives each such response the {@value Problem#MEDIA_TYPE} content over the
 * {@value #SCHEMA} schema, which is what {@code ProblemMappers} and the auth filter send. The stored types'
 * JSON columns, which the API writes as JSON values, are described as objects. Registered with {@code mp.openapi.filter}.
 */
public class ApiDocumentFilter implements OASFilter {
    /** The name of the problem document's schema under components. */
    public static final String SCHEMA = "Problem";
    /** The name of the bearer security scheme (API tokens and OIDC JWTs). */
    public static final String BEARER = "bearer";

    @Override
    public void filterOpenAPI(OpenAPI openApi) {
        describeJsonColumnsAsObjects(openApi);
        if (openApi.getPaths() == null || openApi.getPaths().getPathItems() == null) {
            return;
        }
        openApi.getPaths().getPathItems().values().forEach(item -> item.getOperations().values()
                .forEach(ApiDocumentFilter::addProblemContent));
    }

    /**
     * The stores hold JSON columns as text and the API writes them as JSON values ({@link JsonColumns}); the
     * generator sees only the records' String components, so each such property becomes an object (or null).
     */
    private static void describeJsonColumnsAsObjects(OpenAPI openApi) {
        if (openApi.getComponents() == null || openApi.getComponents().getSchemas() == null) {
            return;
        }
        Map<String, Schema> schemas = openApi.getComponents().getSchemas();
        JsonColumns.fields().forEach((type, fields) -> {
            Schema schema = schemas.get(type.getSimpleName());
            if (schema == null || schema.getProperties() == null) {
                return;
            }
            for (String field : fields) {
                if (schema.getProperties().containsKey(field)) {
                    Schema before = schema.getProperties().get(field);
                    schema.addProperty(field, OASFactory.createSchema()
                            .type(List.of(Schema.SchemaType.OBJECT, Schema.SchemaType.NULL))
                            .additionalPropertiesBoolean(true)
                            .description((before.getDescription() == null ? "" : before.getDescription() + "; ")
                                    + "a JSON object (null when none was recorded), not a string holding JSON"));
                }
            }
        });
    }

    private static void addProblemContent(Operation operation) {
        if (operation.getResponses() == null || operation.getResponses().getAPIResponses() == null) {
            return;
        }
        operation.getResponses().getAPIResponses().forEach((status, response) -> {
            if (isError(status) && response.getRef() == null && noContent(response)) {
                response.setContent(OASFactory.createContent().addMediaType(Problem.MEDIA_TYPE,
                        OASFactory.createMediaType().schema(OASFactory.createSchema().ref(SCHEMA))));
            }
        });
    }

    private static boolean isError(String status) {
        return status.startsWith("4") || status.startsWith("5");
    }

    private static boolean noContent(APIResponse response) {
        return response.getContent() == null || response.getContent().getMediaTypes() == null
                || response.getContent().getMediaTypes().isEmpty();
    }
}
