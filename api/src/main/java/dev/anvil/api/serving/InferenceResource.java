package dev.anvil.api.serving;

import dev.anvil.activities.rollout.Gateway;
import dev.anvil.activities.rollout.GatewayException;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.problem.ProblemException;
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
 * the model name clients call.
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
    @Produces(MediaType.APPLICATION_JSON)
    public Response infer(@PathParam("name") String name, @HeaderParam(ROUTING_KEY) String routingKey,
                          @HeaderParam("Content-Length") Long length, InputStream body) {
        return run(name, null, routingKey, length, body);
    }

    @POST
    @Path("/{name}/versions/{version}/infer")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public Response inferVersion(@PathParam("name") String name, @PathParam("version") String version,
                                 @HeaderParam("Content-Length") Long length, InputStream body) {
        int v;
        try {
            v = Integer.parseInt(version);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("version", "version '" + version + "' is not a version number");
        }
        return run(name, v, null, length, body);
    }

    private Response run(String name, Integer version, String routingKey, Long length, InputStream body) {
        try {
            Gateway.InferResult result = gateway.infer(name, version, routingKey, read(length, body));
            return Response.ok(result.body(), MediaType.APPLICATION_JSON_TYPE)
                    .header(VERSION_HEADER, result.version()).build();
        } catch (GatewayException e) {
            if (e.status() >= 500) {
                LOG.warnf("inference on '%s' failed: %s", name, e.getMessage());
            }
            throw Problems.of(e);
        }
    }

    /** The body, refused with 413 as soon as it passes the limit (never buffered whole). */
    private byte[] read(Long length, InputStream body) {
        long limit = config.gateway().maxRequestBytes();
        if (length != null && length > limit) {
            throw tooLarge(length, limit);
        }
        try (InputStream in = body) {
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
