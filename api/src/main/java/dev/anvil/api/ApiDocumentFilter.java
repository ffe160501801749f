package dev.anvil.api;

import dev.anvil.api.problem.Problem;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;

/**
 * The generated OpenAPI document's finishing touch: every error response is a problem document: resources annotate an error with
 * its status and why it happens ({@code @APIResponse(responseCode = "404", description = "...")}), and
 * this filter gives each such response the {@value Problem#MEDIA_TYPE} content over the
 * {@value #SCHEMA} schema, which is what {@code ProblemMappers} and the auth filter send.
 * Registered with {@code mp.openapi.filter}.
 */
public class ApiDocumentFilter implements OASFilter {
    /** The name of the problem document's schema under components. */
    public static final String SCHEMA = "Problem";
    /** The name of the bearer security scheme (API tokens and OIDC JWTs). */
    public static final String BEARER = "bearer";

    @Override
    public void filterOpenAPI(OpenAPI openApi) {
        if (openApi.getPaths() == null || openApi.getPaths().getPathItems() == null) {
            return;
        }
        openApi.getPaths().getPathItems().values().forEach(item -> item.getOperations().values()
                .forEach(ApiDocumentFilter::addProblemContent));
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
