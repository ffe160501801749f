package dev.anvil.api.serving;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.serving.Gateway;
import dev.anvil.serving.GatewayException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The Open Inference Protocol (KServe v2 REST) over the gateway's endpoints: an endpoint's name is
 * the model name clients call. Infer takes JSON, or with the binary tensor data extension a JSON
 * header ({@value Gateway#HEADER_LENGTH} bytes) followed by tensor bytes.
 *
 * <p>Infer runs on a worker thread, not the event loop: a request may wait for its model version to
 * load, the auth filter may read the token from PostgreSQL, and inference time is the model's (tens
 * of microseconds for cnn_mnist, a second for a batch of MiniLM), any of which would stall every
 * connection sharing the event loop.
 */
@Path("/v2/models")
public class InferenceResource {
    /** Callers that send this header stick to one version while the canary weight stays put. */
    public static final String ROUTING_KEY = "X-Anvil-Routing-Key";
    static final String VERSION_HEADER = "X-Anvil-Model-Version";
    private static final Logger LOG = Logger.getLogger(InferenceResource.class);

    @Inject Gateway gateway;
    @Inject AnvilConfig config;

    @GET
    @Path("/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    public Gateway.ModelMetadata metadata(@PathParam("name") String name) {
        try {
            return gateway.metadata(name);
        } catch (GatewayException e) {
            throw Problems.of(e);
        }
    }

    @GET
    @Path("/{name}/ready")
    @Produces(MediaType.APPLICATION_JSON)
    public Response ready(@PathParam("name") String name) {
        try {
            boolean ready = gateway.ready(name);
            return Response.status(ready ? 200 : 503).entity(Map.of("name", name, "ready", ready)).build();
        } catch (GatewayException e) {
            throw Problems.of(e);
        }
    }

    @POST
    @Path("/{name}/infer")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    public Response infer(@PathParam("name") String name, @HeaderParam(ROUTING_KEY) String routingKey,
                          @HeaderParam("Content-Length") Long length,
                          @HeaderParam(Gateway.HEADER_LENGTH) String headerLength, InputStream body) {
        return run(name, null, routingKey, length, headerLength, body);
    }

    @POST
    @Path("/{name}/versions/{version}/infer")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    public Response inferVersion(@PathParam("name") String name, @PathParam("version") String version,
                                 @HeaderParam("Content-Length") Long length,
                                 @HeaderParam(Gateway.HEADER_LENGTH) String headerLength, InputStream body) {
        int v;
        try {
            v = Integer.parseInt(version);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("version", "version '" + version + "' is not a version number");
        }
        return run(name, v, null, length, headerLength, body);
    }

    private Response run(String name, Integer version, String routingKey, Long length, String headerLength,
                         InputStream body) {
        int jsonLength = headerLength(headerLength);
        try {
            Gateway.InferResult result = gateway.infer(name, version, routingKey, read(length, body), jsonLength);
            Response.ResponseBuilder response = Response.ok(result.body(), result.binary()
                    ? MediaType.APPLICATION_OCTET_STREAM_TYPE : MediaType.APPLICATION_JSON_TYPE)
                    .header(VERSION_HEADER, result.version());
            if (result.binary()) {
                response.header(Gateway.HEADER_LENGTH, result.headerLength());
            }
            return response.build();
        } catch (GatewayException e) {
            if (e.status() >= 500) {
                LOG.warnf("inference on '%s' failed: %s", name, e.getMessage());
            }
            throw Problems.of(e);
        }
    }

    /** The JSON header's size under the binary tensor data extension, or -1 when the header is absent. */
    private static int headerLength(String value) {
        if (value == null) {
            return -1;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ProblemException.badRequest(Gateway.HEADER_LENGTH, Gateway.HEADER_LENGTH + " is '" + value
                + "'; it must be the size in bytes of the JSON header that starts the body");
    }

    /** The body, refused with 413 as soon as it passes the limit (never buffered whole). */
    private byte[] read(Long length, InputStream body) {
        long limit = config.gateway().maxRequestBytes();
        if (length != null && length > limit) {
            throw tooLarge(length, limit);
        }
        try (InputStream in = body) {
            if (length != null && length >= 0) {
                // the usual case: read straight into an array of the announced size
                byte[] bytes = in.readNBytes((int) (long) length);
                if (bytes.length < length) {
                    throw ProblemException.badRequest(null, "the request body ended after " + bytes.length
                            + " of its " + length + " bytes");
                }
                return bytes;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(length == null ? 8192 : (int) Math.max(length, 0));
            byte[] buffer = new byte[16384];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > limit) {
                    throw tooLarge(total, limit);
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw ProblemException.badRequest(null, "the request body could not be read: " + e.getMessage());
        }
    }

    private static ProblemException tooLarge(long size, long limit) {
        return new ProblemException(413, "Content too large", "the request body has " + (size > limit ? "more than " + limit
                : size) + " bytes; the gateway accepts at most " + limit + " (ANVIL_GATEWAY_MAX_REQUEST_BYTES)",
                java.util.List.of());
    }
}
