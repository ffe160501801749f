package dev.anvil.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.workflows.rollout.EndpointCounts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The inference gateway's engine: endpoints (read from PostgreSQL, refreshed on every change and
 * periodically), weighted or sticky routing between an endpoint's stable and canary version, warm
 * sessions per version (ONNX Runtime, or the TFLite interpreter for .tflite artifacts), and per-version metrics. Thread-safe; requests never take a
 * lock.
 */
public final class Gateway {
    /** A model version an endpoint serves and the artifact holding it. */
    public record ServedVersion(int version, String sha256) {
    }

    /** An endpoint as the router sees it. */
    public record Route(Endpoint endpoint, ServedVersion stable, ServedVersion canary) {
        public List<ServedVersion> versions() {
            return canary == null ? List.of(stable) : List.of(stable, canary);
        }

        Optional<ServedVersion> version(int v) {
            return versions().stream().filter(s -> s.version() == v).findFirst();
        }
    }

    /**
     * A tensor in a model's signature, as the v2 metadata shows it. An output that is not a tensor (the
     * sequence of maps a ZipMap classifier returns) has datatype {@value V2Tensors#JSON}, answers as JSON
     * values, and says what it is in kind, ONNX's type ({@code seq(map(int64,tensor(float)))}); kind is left
     * out for tensors. Its shape is [-1] for a sequence (one element per item) and [] for a single map.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TensorMetadata(String name, String datatype, List<Long> shape, String kind) {
        public TensorMetadata(String name, String datatype, List<Long> shape) {
            this(name, datatype, shape, null);
        }
    }

    public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
                                List<TensorMetadata> outputs) {
    }

    /**
     * An answered inference: the version that served it and the v2 response body. With binary outputs
     * the body is a JSON header of headerLength bytes followed by the tensors' bytes; headerLength is
     * -1 when the body is all JSON.
     */
    public record InferResult(int version, boolean canary, byte[] body, int headerLength) {
        public boolean binary() {
            return headerLength >= 0;
        }
    }

    /** The binary tensor data extension's header, on requests and responses: the JSON header's length. */
    public static final String HEADER_LENGTH = V2RequestReader.HEADER_LENGTH;
    private static final JsonFactory RESPONSES = JsonFactory.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

    private final EndpointStore endpoints;
    private final ModelRegistryStore registry;
    private final ModelSessions sessions;
    private final ServingMetrics metrics;
    private final DriftSampler drift;
    private final OrtEnvironment env;
    private final Duration loadWait;
    private final Duration queueWait;
    private final ConcurrentHashMap<String, String> artifactOfVersion = new ConcurrentHashMap<>();
    private volatile Map<String, Route> routes = Map.of();

    /**
     * @param loadWait  how long a request waits for its version's session to finish loading
     * @param queueWait how long a request waits for a slot on a version already running its
     *                  {@link LoadedModel#maxConcurrent()} requests before it is refused with 429
     */
    public Gateway(EndpointStore endpoints, ModelRegistryStore registry, ModelSessions sessions, ServingMetrics metrics,
                   OrtEnvironment env, Duration loadWait, Duration queueWait) {
        this(endpoints, registry, sessions, metrics, DriftSampler.off(), env, loadWait, queueWait);
    }

    /** @param drift what the gateway samples of each version's traffic for drift checks ({@link DriftSampler#off()}: nothing) */
    public Gateway(EndpointStore endpoints, ModelRegistryStore registry, ModelSessions sessions, ServingMetrics metrics,
                   DriftSampler drift, OrtEnvironment env, Duration loadWait, Duration queueWait) {
        this.drift = drift;
        this.endpoints = endpoints;
        this.registry = registry;
        this.sessions = sessions;
        this.metrics = metrics;
        this.env = env;
        this.loadWait = loadWait;
        this.queueWait = queueWait;
    }

    /**
     * Re-reads the endpoints, starts loading versions that joined (in the background) and unloads
     * the ones that left. Requests keep using the previous routes until the new ones are in place.
     */
    public synchronized void refresh() {
        Map<String, Route> next = new LinkedHashMap<>();
        Set<String> artifacts = new HashSet<>();
        for (Endpoint e : endpoints.list()) {
            ServedVersion stable = served(e.model(), e.stableVersion());
            ServedVersion canary = e.hasCanary() ? served(e.model(), e.canaryVersion()) : null;
            Route route = new Route(e, stable, canary);
            next.put(e.name(), route);
            route.versions().forEach(v -> artifacts.add(v.sha256()));
        }
        routes = Map.copyOf(next);
        artifacts.forEach(sessions::load);
        sessions.retainOnly(artifacts);
    }

    public List<Route> routes() {
        return routes.values().stream().sorted(java.util.Comparator.comparing(r -> r.endpoint().name())).toList();
    }

    public Route route(String name) {
        Route route = routes.get(name);
        if (route == null) {
            throw GatewayException.notFound("name", "no model named '" + name + "' is served; served models: "
                    + new java.util.TreeSet<>(routes.keySet()) + " (create one with PUT /api/endpoints/" + name + ")");
        }
        return route;
    }

    /**
     * True when anyone may call this endpoint without the invoker role; false for an endpoint that is
     * not public and for a name that is not served (so a refusal does not tell strangers which names exist).
     */
    public boolean isPublic(String name) {
        Route route = routes.get(name);
        return route != null && route.endpoint().publicInference();
    }

    /** True when some endpoint may be called without the invoker role. */
    public boolean anyPublic() {
        return routes.values().stream().anyMatch(r -> r.endpoint().publicInference());
    }

    /** True when every version of every endpoint has its session loaded (the protocol's server readiness). */
    public boolean ready() {
        return routes.values().stream().allMatch(this::loaded);
    }

    /** True when every version of the endpoint has its session loaded. */
    public boolean ready(String name) {
        return loaded(route(name));
    }

    private boolean loaded(Route route) {
        return route.versions().stream().allMatch(v -> {
            CompletableFuture<LoadedModel> f = sessions.load(v.sha256());
            return f.isDone() && !f.isCompletedExceptionally();
        });
    }

    /** Waits until the endpoint's versions are loaded; a version that cannot load fails this. */
    public void awaitLoaded(String name, Duration timeout) {
        for (ServedVersion v : route(name).versions()) {
            model(name, v, timeout);
        }
    }

    public ModelMetadata metadata(String name) {
        Route route = route(name);
        LoadedModel model = model(name, route.stable(), loadWait);
        return metadata(name, route.versions().stream().map(v -> Integer.toString(v.version())).toList(), model);
    }

    /** The v2 metadata of a loaded model served under name. */
    static ModelMetadata metadata(String name, List<String> versions, LoadedModel model) {
        return new ModelMetadata(name, versions, model.platform(), signature(model.inputs()), outputs(model.outputs()));
    }

    public EndpointCounts counts(String name) {
        return metrics.counts(name);
    }

    /** What this process sampled of every endpoint version's traffic (empty with sampling off). */
    public DriftSampler drift() {
        return drift;
    }

    /**
     * Runs one Open Inference Protocol request.
     *
     * @param version      the version to use, or null to let the router pick
     * @param routingKey   sticky routing key (a caller id), or null for a weighted draw per request
     * @param body         the request body, from 0 to its limit; read, never kept or freed
     * @param headerLength with the binary tensor data extension, the size of the JSON header that
     *                     starts body ({@value V2RequestReader#HEADER_LENGTH}); -1 when body is all JSON
     */
    public InferResult infer(String name, Integer version, String routingKey, ByteBuffer body, int headerLength) {
        Route route = route(name);
        ServedVersion served;
        boolean canary;
        if (version != null) {
            served = route.version(version).orElseThrow(() -> GatewayException.notFound("version",
                    "model '" + name + "' does not serve version " + version + "; served versions: "
                            + route.versions().stream().map(ServedVersion::version).toList()));
            canary = route.canary() != null && route.canary().version() == version;
        } else {
            canary = route.canary() != null && Router.toCanary(route.endpoint().canaryWeight(), routingKey);
            served = canary ? route.canary() : route.stable();
        }
        LoadedModel model = model(name, served, loadWait);
        if (!model.hold()) {
            throw new GatewayException(503, null, "version " + served.version() + " of model '" + name
                    + "' left the endpoint while this request was routed; send it again");
        }
        try {
            if (!model.enter(queueWait)) {
                throw GatewayException.busy(429, "version " + served.version() + " of model '" + name + "' is already"
                        + " running " + model.maxConcurrent() + " requests (ANVIL_GATEWAY_MAX_CONCURRENT_PER_MODEL) and"
                        + " none finished within " + queueWait.toMillis() + " ms; send it again in "
                        + retryAfter().toSeconds() + " s", retryAfter());
            }
            try {
                return decodeAndRun(name, served, canary, model, body, headerLength);
            } finally {
                model.leave();
            }
        } finally {
            model.release();
        }
    }

    /** What a caller refused for a busy model is told to wait: a queue wait, rounded up to whole seconds. */
    private Duration retryAfter() {
        return Duration.ofSeconds(Math.max(1, (queueWait.toMillis() + 999) / 1000));
    }

    private InferResult decodeAndRun(String name, ServedVersion served, boolean canary, LoadedModel model, ByteBuffer body,
                                     int headerLength) {
        // the request is decoded against the routed version's signature (stable and canary may differ)
        V2Request request;
        try {
            request = V2RequestReader.read(env, model, body, headerLength);
        } catch (GatewayException e) {
            if (e.status() >= 500) {
                metrics.record(name, served.version(), 0, true);
            }
            throw e;
        }
        // the latency the rollout compares is the model's (inference and its answer), not the request
        // parsing both versions share, which would only dilute the canary's difference
        drift.offerInputs(name, served.version(), request.inputs());
        long start = System.nanoTime();
        InferResult result;
        try (request) {
            result = run(name, served.version(), canary, model, request, drift);
        } catch (GatewayException e) {
            if (e.status() >= 500) {
                metrics.record(name, served.version(), System.nanoTime() - start, true);
            }
            throw e;
        }
        metrics.record(name, served.version(), System.nanoTime() - start, false);
        return result;
    }

    /** Runs a decoded request on the model and writes the v2 response (the engine under {@link #infer}). */
    static InferResult run(String name, int version, boolean canary, LoadedModel model, V2Request request) {
        return run(name, version, canary, model, request, DriftSampler.off());
    }

    /** As above, offering the outputs to the drift sampler. */
    static InferResult run(String name, int version, boolean canary, LoadedModel model, V2Request request,
                           DriftSampler drift) {
        try (ModelEngine.Outputs result = model.engine().run(request.inputs(), request.outputs())) {
            drift.offerOutputs(name, version, result);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            List<OnnxValue> binary = new ArrayList<>(request.binaryOutputs().size());
            try (JsonGenerator out = RESPONSES.createGenerator(bytes)) {
                out.writeStartObject();
                out.writeStringField("model_name", name);
                out.writeStringField("model_version", Integer.toString(version));
                if (request.id() != null) {
                    out.writeStringField("id", request.id());
                }
                out.writeArrayFieldStart("outputs");
                for (Map.Entry<String, OnnxValue> output : result) {
                    OnnxValue value = output.getValue();
                    if (!(value instanceof OnnxTensor)) {
                        // the binary extension carries tensors only: a sequence or map answers as JSON even
                        // when the request asked for binary outputs, so clients that ask for all in binary still work
                        V2Tensors.encodeJson(out, output.getKey(), value);
                    } else if (request.binaryOutputs().contains(output.getKey())) {
                        V2Tensors.encodeBinaryHeader(out, output.getKey(), value);
                        binary.add(value);
                    } else {
                        V2Tensors.encode(out, output.getKey(), value);
                    }
                }
                out.writeEndArray();
                out.writeEndObject();
            }
            int headerLength = binary.isEmpty() ? -1 : bytes.size();
            for (OnnxValue value : binary) {
                V2Tensors.writeBinary(bytes, value);
            }
            return new InferResult(version, canary, bytes.toByteArray(), headerLength);
        } catch (OrtException e) {
            throw runFailure(name, version, model, request, e);
        } catch (IOException e) {
            throw new GatewayException(500, null, "could not write the response: " + e.getMessage(), e);
        }
    }

    /**
     * What a failed run tells the caller. The inputs already fit the model's signature (names, datatypes,
     * fixed dimensions), so ONNX Runtime's invalid-argument errors come from what the caller chose: a size
     * for a free dimension the graph cannot take, an index or value out of the range an operator accepts.
     * Those are 400 (not counted as the version's errors, or any caller could fail a good canary);
     * anything else is the model's failure.
     */
    static GatewayException runFailure(String name, int version, LoadedModel model, V2Request request,
                                       OrtException e) {
        if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
            List<String> sent = new ArrayList<>();
            request.inputs().forEach((input, tensor) -> sent.add(describe(input, tensor, model.inputs().get(input))));
            return new GatewayException(400, "inputs", "model '" + name + "' (version " + version + ") cannot take"
                    + " these inputs: " + e.getMessage() + "; sent " + String.join(", ", sent), e);
        }
        return new GatewayException(500, null, "version " + version + " of model '" + name
                + "' failed on this input: " + e.getMessage(), e);
    }

    private static String describe(String input, OnnxTensor tensor, TensorInfo declared) {
        String shape = java.util.Arrays.toString(tensor.getInfo().getShape());
        return "input '" + input + "' " + TensorType.v2Name(tensor.getInfo().type) + " " + shape
                + (declared == null ? "" : " (the model expects " + TensorType.v2Name(declared.type) + " "
                + java.util.Arrays.toString(declared.getShape()) + ", -1: any size)");
    }

    private LoadedModel model(String name, ServedVersion v, Duration wait) {
        try {
            return sessions.load(v.sha256()).get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new GatewayException(503, null, "version " + v.version() + " of model '" + name
                    + "' is still loading; try again in a moment");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String why = cause instanceof GatewayException ? cause.getMessage() : String.valueOf(cause);
            throw new GatewayException(503, null, "version " + v.version() + " of model '" + name
                    + "' could not be loaded: " + why, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GatewayException(503, null, "interrupted while waiting for model '" + name + "' to load");
        }
    }

    private ServedVersion served(String model, int version) {
        String sha = artifactOfVersion.computeIfAbsent(model + "@" + version, k -> registry.findVersion(model, version)
                .orElseThrow(() -> new IllegalStateException("model '" + model + "' has no version " + version))
                .artifactSha256());
        return new ServedVersion(version, sha);
    }

    private static List<TensorMetadata> outputs(Map<String, LoadedModel.Output> outputs) {
        List<TensorMetadata> list = new ArrayList<>();
        for (LoadedModel.Output output : outputs.values()) {
            if (output.isTensor()) {
                list.add(new TensorMetadata(output.name(), TensorType.v2Name(output.tensor().type),
                        java.util.Arrays.stream(output.tensor().getShape()).boxed().toList()));
            } else {
                List<Long> shape = output.kind().startsWith("seq(") ? List.of(-1L) : List.of();
                list.add(new TensorMetadata(output.name(), V2Tensors.JSON, shape, output.kind()));
            }
        }
        return list;
    }

    private static List<TensorMetadata> signature(Map<String, TensorInfo> tensors) {
        List<TensorMetadata> list = new ArrayList<>();
        tensors.forEach((n, t) -> list.add(new TensorMetadata(n, TensorType.v2Name(t.type),
                java.util.Arrays.stream(t.getShape()).boxed().toList())));
        return list;
    }
}
