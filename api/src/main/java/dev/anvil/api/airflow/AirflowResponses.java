package dev.anvil.api.airflow;

import dev.anvil.api.problem.Problem;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Error bodies under {@code /api/v2} are Airflow's {@code {"detail": ...}}, not Anvil's problem documents:
 * this package's own refusals map directly, and whatever Anvil's shared mappers answered there (401 and 403
 * from the role checks, 404 for an unknown path, 413, 500) is rewritten on the way out. Every other path
 * keeps its problem documents.
 */
public class AirflowResponses {
    static final String PREFIX = "/api/v2";

    @ServerExceptionMapper
    public Response airflow(AirflowException e) {
        return Response.status(e.status()).type(MediaType.APPLICATION_JSON).entity(Map.of("detail", e.detail())).build();
    }

    @ServerResponseFilter
    public void detailsUnderApiV2(ContainerRequestContext request, ContainerResponseContext response) {
        if (!isAirflowPath(request.getUriInfo().getPath()) || !(response.getEntity() instanceof Problem problem)) {
            return;
        }
        // Airflow's words for a missing bearer; Anvil's own detail (which role is needed) elsewhere
        Object detail = response.getStatus() == 401 ? "Not authenticated" : problem.detail();
        response.setEntity(Map.of("detail", detail == null ? problem.title() : detail));
        response.getHeaders().putSingle("Content-Type", MediaType.APPLICATION_JSON);
    }

    public static boolean isAirflowPath(String path) {
        return path.equals(PREFIX) || path.startsWith(PREFIX + "/") || path.equals(AirflowTokenResource.PATH);
    }
}
