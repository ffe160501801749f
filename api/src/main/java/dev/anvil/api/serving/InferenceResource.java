package dev.anvil.api.serving;

import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.limits.StreamedBody;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.serving.Gateway;
import dev.anvil.serving.GatewayException;
import dev.anvil.serving.InflightBytes;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.PermitAll;
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
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
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
 *
 * <p>Every operation, metadata and readiness too, needs the role {@value Roles#INVOKER} (an admin has it), unless
 * the endpoint is public ({@code PUT /api/endpoints/{name}} with {@code "public": true}). The methods are
 * {@code @PermitAll} because whether a role is needed depends on the endpoint: {@link #mayCall} decides, before
 * anything else runs, from the gateway's routes in memory (no database round trip per request).
 */
@Path("/v2/models")
@Tag(name = "inference")
public class InferenceResource {
    /** Callers that send this header stick to one version while the canary weight stays put. */
    public static final String ROUTING_KEY = "X-Anvil-Routing-Key";
    static final String VERSION_HEADER = "X-Anvil-Model-Version";
    private static final Logger LOG = Logger.getLogger(InferenceResource.class);

    @Inject Gateway gateway;
    @Inject AnvilConfig config;
    @Inject SecurityIdentity identity;
    @Inject InflightBytes inflight;

    @GET
    @PermitAll
    @Path("/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Model metadata (Open Inference Protocol)",
            description = "The versions the endpoint serves, the platform (onnxruntime_onnx, or tensorflow_lite for a .tflite artifact), input and output tensors "
                    + "in the model's order. An output that is not a tensor (a classifier's sequence of maps) has "
                    + "datatype JSON and its ONNX type in kind, e.g. seq(map(int64,tensor(float))).")
    @APIResponse(responseCode = "200", description = "the metadata")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token (or an unknown or revoked one), and the endpoint is not public")
    @APIResponse(responseCode = "403", description = "the caller lacks the role invoker, and the endpoint is not public")
    public Gateway.ModelMetadata metadata(@Parameter(description = "the endpoint's name, which clients call the model's name", schema = @Schema(type = SchemaType.STRING, pattern = EndpointResource.NAME_PATTERN)) @PathParam("name") String name) {
        mayCall("GET", name);
        try {
            return gateway.metadata(name);
        } catch (GatewayException e) {
            throw Problems.of(e);
        }
    }

    @GET
    @PermitAll
    @Path("/{name}/ready")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Whether every version of the model has its session loaded")
    @APIResponse(responseCode = "200", description = "ready: name and ready (true)")
    @APIResponse(responseCode = "503", description = "still loading: name and ready (false)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, example = "{\"name\": \"digits\", \"ready\": false}"))
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token (or an unknown or revoked one), and the endpoint is not public")
    @APIResponse(responseCode = "403", description = "the caller lacks the role invoker, and the endpoint is not public")
    public Response ready(@Parameter(description = "the endpoint's name, which clients call the model's name", schema = @Schema(type = SchemaType.STRING, pattern = EndpointResource.NAME_PATTERN)) @PathParam("name") String name) {
        mayCall("GET", name);
        try {
            boolean ready = gateway.ready(name);
            return Response.status(ready ? 200 : 503).entity(Map.of("name", name, "ready", ready)).build();
        } catch (GatewayException e) {
            throw Problems.of(e);
        }
    }

    @POST
    @PermitAll
    @Path("/{name}/infer")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    @Operation(summary = "Inference; the router picks the stable version or the canary by weight",
            description = "Open Inference Protocol JSON tensors, or with the binary tensor data extension a JSON header "
                    + "(its size in " + Gateway.HEADER_LENGTH + ") followed by tensor bytes. Send " + ROUTING_KEY
                    + " to stick to one version per caller. The answer names the version in " + VERSION_HEADER
                    + " and model_version.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            examples = @ExampleObject(name = "cnn_mnist", value = "{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\", \"shape\": [1, 1, 28, 28], \"data\": [0.0, 0.5, \"...\"]}]}")))
    @APIResponse(responseCode = "200", description = "model_name, model_version, id and outputs; an output that is "
            + "not a tensor has datatype JSON and its values in data (a sequence of maps: one object per item)")
    @APIResponse(responseCode = "400", description = "the inputs do not fit the model (names, types, shapes), "
            + "or the body is malformed; the problem names the field")
    @APIResponse(responseCode = "404", description = "no endpoint of this name")
    @APIResponse(responseCode = "413", description = "the body is larger than anvil.gateway.max-request-bytes")
    @APIResponse(responseCode = "500", description = "the model failed the request")
    @APIResponse(responseCode = "429", description = "the model version is already running "
            + "anvil.gateway.max-concurrent-per-model requests and none finished within anvil.gateway.queue-wait; "
            + "Retry-After says when to send it again", headers = @Header(name = "Retry-After",
            description = "seconds to wait before sending the request again", schema = @Schema(type = SchemaType.INTEGER)))
    @APIResponse(responseCode = "503", description = "the model version is still loading or cannot be loaded, or the "
            + "gateway holds anvil.gateway.max-inflight-bytes of requests already (then with Retry-After)",
            headers = @Header(name = "Retry-After", description = "when the gateway was too busy: seconds to wait "
                    + "before sending the request again", schema = @Schema(type = SchemaType.INTEGER)))
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token (or an unknown or revoked one), and the endpoint is not public")
    @APIResponse(responseCode = "403", description = "the caller lacks the role invoker, and the endpoint is not public")
    @StreamedBody
    public Response infer(@Parameter(description = "the endpoint's name, which clients call the model's name", schema = @Schema(type = SchemaType.STRING, pattern = EndpointResource.NAME_PATTERN)) @PathParam("name") String name,
                          @Parameter(description = "callers that send it stick to one version while the canary weight stays")
                          @HeaderParam(ROUTING_KEY) String routingKey,
                          @HeaderParam("Content-Length") Long length,
                          @HeaderParam(Gateway.HEADER_LENGTH) String headerLength, InputStream body) {
        mayCall("POST", name);
        return run(name, null, routingKey, length, headerLength, body);
    }

    @POST
    @PermitAll
    @Path("/{name}/versions/{version}/infer")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
    @Operation(summary = "Inference on one version the endpoint serves (stable or canary)",
            description = "The same request and answer as POST /v2/models/{name}/infer.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            examples = @ExampleObject(name = "cnn_mnist", value = "{\"inputs\": [{\"name\": \"input_image\", \"datatype\": \"FP32\", \"shape\": [1, 1, 28, 28], \"data\": [0.0, 0.5, \"...\"]}]}")))
    @APIResponse(responseCode = "200", description = "model_name, model_version, id and outputs; an output that is "
            + "not a tensor has datatype JSON and its values in data (a sequence of maps: one object per item)")
    @APIResponse(responseCode = "400", description = "the version is not a number, the inputs do not fit the model, "
            + "or the body is malformed; the problem names the field")
    @APIResponse(responseCode = "404", description = "no endpoint of this name, or it does not serve this version")
    @APIResponse(responseCode = "413", description = "the body is larger than anvil.gateway.max-request-bytes")
    @APIResponse(responseCode = "500", description = "the model failed the request")
    @APIResponse(responseCode = "429", description = "the model version is already running "
            + "anvil.gateway.max-concurrent-per-model requests and none finished within anvil.gateway.queue-wait; "
            + "Retry-After says when to send it again", headers = @Header(name = "Retry-After",
            description = "seconds to wait before sending the request again", schema = @Schema(type = SchemaType.INTEGER)))
    @APIResponse(responseCode = "503", description = "the model version is still loading or cannot be loaded, or the "
            + "gateway holds anvil.gateway.max-inflight-bytes of requests already (then with Retry-After)",
            headers = @Header(name = "Retry-After", description = "when the gateway was too busy: seconds to wait "
                    + "before sending the request again", schema = @Schema(type = SchemaType.INTEGER)))
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "401", description = "no bearer token (or an unknown or revoked one), and the endpoint is not public")
    @APIResponse(responseCode = "403", description = "the caller lacks the role invoker, and the endpoint is not public")
    @StreamedBody
    public Response inferVersion(@Parameter(description = "the endpoint's name, which clients call the model's name", schema = @Schema(type = SchemaType.STRING, pattern = EndpointResource.NAME_PATTERN)) @PathParam("name") String name,
                                 @Parameter(description = "the model version", schema = @Schema(type = SchemaType.INTEGER))
                                 @PathParam("version") String version,
                                 @HeaderParam("Content-Length") Long length,
                                 @HeaderParam(Gateway.HEADER_LENGTH) String headerLength, InputStream body) {
        mayCall("POST", name);
        int v;
        try {
            v = Integer.parseInt(version);
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("version", "version '" + version + "' is not a version number");
        }
        return run(name, v, null, length, headerLength, body);
    }

    /**
     * Refuses a caller without the role invoker on an endpoint that is not public: 401 without credentials, 403
     * with. An unknown name is refused the same way, so strangers cannot list what is served by probing names.
     */
    private void mayCall(String method, String name) {
        InvokerAccess.require(identity, () -> gateway.isPublic(name), method + " /v2/models/" + name,
                "the endpoint is public", " (or an admin makes the endpoint public with PUT /api/endpoints/" + name
                        + " and {\"public\": true})");
    }

    private Response run(String name, Integer version, String routingKey, Long length, String headerLength,
                         InputStream body) {
        int jsonLength = headerLength(headerLength);
        long limit = config.gateway().maxRequestBytes();
        if (length != null && length > limit) {
            throw tooLarge(length, limit);
        }
        // the body's memory is reserved before it is read; one of unknown length may be as large as the limit
        try (InflightBytes.Reservation reserved = inflight.reserve(length == null || length < 0 ? limit : length)) {
            Gateway.InferResult result = gateway.infer(name, version, routingKey, read(length, body, reserved),
                    jsonLength);
            Response.ResponseBuilder response = Response.ok(result.body(), result.binary()
                    ? MediaType.APPLICATION_OCTET_STREAM_TYPE : MediaType.APPLICATION_JSON_TYPE)
                    .header(VERSION_HEADER, result.version());
            if (result.binary()) {
                response.header(Gateway.HEADER_LENGTH, result.headerLength());
            }
            return response.build();
        } catch (GatewayException e) {
            // a refusal to shed load (it has a Retry-After) is the gateway working, not failing: no log line each
            if (e.status() >= 500 && e.retryAfter() == null) {
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

    /**
     * The body, read into the reservation's memory (freed with it, not left to the garbage collector) and
     * refused with 413 as soon as it passes the limit; ready to read from 0 to its limit.
     */
    private ByteBuffer read(Long length, InputStream body, InflightBytes.Reservation reserved) {
        long limit = config.gateway().maxRequestBytes();
        boolean known = length != null && length >= 0;
        ByteBuffer bytes = reserved.body((int) (known ? length : limit));
        try (InputStream in = body) {
            byte[] chunk = new byte[65536];
            long total = 0;
            for (int n; (n = in.read(chunk)) > 0; ) {
                total += n;
                if (total > bytes.capacity()) {
                    if (known) {
                        throw ProblemException.badRequest(null, "the request body has more than the " + length
                                + " bytes its Content-Length announced");
                    }
                    throw tooLarge(total, limit);
                }
                bytes.put(chunk, 0, n);
            }
            if (known && total < length) {
                throw ProblemException.badRequest(null, "the request body ended after " + total + " of its " + length
                        + " bytes");
            }
            return bytes.flip();
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
