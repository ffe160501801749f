package dev.anvil.api.limits;

import dev.anvil.api.problem.ProblemException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Every API body is held to {@link #MAX_BODY_BYTES} unless its endpoint is {@link StreamedBody}:
 * the HTTP server's own limit ({@code quarkus.http.limits.max-body-size}) is set high for artifact
 * uploads, so it cannot be the bound for specs and JSON. An announced Content-Length over the limit
 * is refused before a byte is read; a chunked body is counted as it is read
 * ({@link BodyLimitInterceptor}) and refused as soon as it passes the limit. Either way nothing is
 * parsed, and the caller gets 413 naming the limit.
 */
public class BodyLimits {
    /** A pipeline spec or a JSON request is a page or two; 1 MiB leaves room and bounds memory and parse time. */
    public static final long MAX_BODY_BYTES = 1024 * 1024;
    /** Request property carrying the limit from the filter to the stream that counts. */
    static final String LIMIT_PROPERTY = "dev.anvil.api.limits.max-body-bytes";
    static final String ENDPOINT_PROPERTY = "dev.anvil.api.limits.endpoint";

    @ServerRequestFilter
    public void limit(ContainerRequestContext request, ResourceInfo resource) {
        if (resource.getResourceMethod() == null || resource.getResourceMethod().isAnnotationPresent(StreamedBody.class)) {
            return;
        }
        String endpoint = request.getMethod() + " " + request.getUriInfo().getPath();
        request.setProperty(LIMIT_PROPERTY, MAX_BODY_BYTES);
        request.setProperty(ENDPOINT_PROPERTY, endpoint);
        String announced = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        if (announced == null) {
            return;
        }
        try {
            long length = Long.parseLong(announced.strip());
            if (length > MAX_BODY_BYTES) {
                throw tooLarge(endpoint, "is " + length + " bytes");
            }
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(HttpHeaders.CONTENT_LENGTH, "Content-Length is '" + announced
                    + "'; it must be the size of the body in bytes");
        }
    }

    static ProblemException tooLarge(String endpoint, String howBig) {
        String detail = "the request body " + howBig + "; " + endpoint + " accepts at most " + MAX_BODY_BYTES
                + " bytes (1 MiB); send a smaller body (large files go to POST /api/artifacts, which streams)";
        return new ProblemException(413, "Content too large", detail,
                List.of(new dev.anvil.api.problem.Problem.FieldError("body", detail)));
    }
}
