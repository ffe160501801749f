package dev.anvil.api.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anvil.storage.ArtifactCorruptedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error leaves the API as problem JSON; unexpected ones are logged with an id the caller can quote. */
public class ProblemMappers {
    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @Context
    UriInfo uri;

    @ServerExceptionMapper
    public Response problem(ProblemException e) {
        Response response = respond(e.status(), e.title(), e.getMessage(), e.errors());
        if (e.retryAfterSeconds() != null) {
            response.getHeaders().putSingle("Retry-After", Long.toString(e.retryAfterSeconds()));
        }
        return response;
    }

    @ServerExceptionMapper
    public Response malformedJson(JsonProcessingException e) {
        String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr();
        return respond(400, "Bad request", "the request body is not valid JSON" + where
                + ": " + e.getOriginalMessage(), List.of());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof ProblemException problem) {
                return problem(problem);
            }
            if (t instanceof JsonProcessingException json) {
                return malformedJson(json);
            }
        }
        int status = e.getResponse().getStatus();
        String title = e.getResponse().getStatusInfo().getReasonPhrase();
        String detail = switch (status) {
            case 404 -> "no such resource: " + uri.getPath() + " (the API is described at /q/openapi)";
            case 405 -> "method not allowed on " + uri.getPath() + " (the API is described at /q/openapi)";
            case 415 -> "unsupported Content-Type for " + uri.getPath() + " (see /q/openapi for what it accepts)";
            default -> title;
        };
        return respond(status, title, detail, List.of());
    }

    /**
     * A stored artifact failed its checksum while streaming out: the response is cut short (the
     * client sees an incomplete body, never wrong bytes) and the log names the artifact.
     */
    @ServerExceptionMapper
    public Response corrupted(ArtifactCorruptedException e) {
        LOG.errorf("stored artifact failed verification on %s: %s", uri.getPath(), e.getMessage());
        return respond(500, "Internal server error", "the stored artifact failed its checksum: " + e.getMessage()
                + "; re-upload it from a good copy", List.of());
    }

    @ServerExceptionMapper(priority = 10_000)
    public Response unexpected(Throwable e) {
        String id = UUID.randomUUID().toString();
        LOG.errorf(e, "unexpected error %s on %s", id, uri.getPath());
        return respond(500, "Internal server error",
                "the server failed to handle this request; the server log has the details under error id " + id,
                List.of());
    }

    private Response respond(int status, String title, String detail, List<Problem.FieldError> errors) {
        Problem body = new Problem("about:blank", title, status, detail, uri == null ? null : uri.getPath(), errors);
        return Response.status(status).type(Problem.MEDIA_TYPE).entity(body).build();
    }
}
