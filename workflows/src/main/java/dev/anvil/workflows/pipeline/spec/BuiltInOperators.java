package dev.anvil.workflows.pipeline.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.workflows.TaskQueues;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Descriptors of the operators that ship with the workflows module. Each one's {@code with} schema
 * is read from the published pipeline schema ({@value #PIPELINE_SCHEMA}, under
 * {@value #OPERATORS_POINTER}), so editors and the validator check the same thing.
 */
public final class BuiltInOperators {
    /** The JSON Schema served at /api/schemas/pipeline.json, on the class path. */
    public static final String PIPELINE_SCHEMA = "/schemas/pipeline.json";
    static final String OPERATORS_POINTER = "/$defs/operators";

    /** Loads a model and reports its structure; the same model bytes give the same report. */
    public static final OperatorDescriptor INSPECT = operator("inspect", "InspectModel", TaskQueues.CPU, true);

    /**
     * Makes a deployable ONNX model: validates it, optionally raises its default-domain opset (7 to 24,
     * never lowers), applies an ONNX Runtime graph optimisation level (extended and all emit ORT-specific
     * operators, all also CPU-specific layouts) and optionally converts it to float16 with float32 inputs
     * and outputs. The same model and settings give the same result.
     */
    public static final OperatorDescriptor CONVERT = operator("convert", "ConvertModel", TaskQueues.CPU, true);

    /**
     * Does nothing, like Airflow's EmptyOperator; for joins, tests and benchmarks. Not cached, so
     * that a benchmark of noop pipelines measures the engine rather than cache hits.
     */
    public static final OperatorDescriptor NOOP = operator("noop", "Noop", TaskQueues.CPU, false);

    /** Waits {@code seconds}; for tests of timeouts and concurrency. Waiting has no result worth caching. */
    public static final OperatorDescriptor SLEEP = operator("sleep", "Sleep", TaskQueues.CPU, false);

    /**
     * INT8 quantisation: static (QDQ, ranges calibrated on a dataset artifact or read from a calibration
     * table) or dynamic. The same model, data and options give the same model bytes.
     */
    public static final OperatorDescriptor QUANTIZE = operator("quantize", "Quantize", TaskQueues.CPU, true);

    /**
     * Unstructured magnitude pruning (global or per layer, per-layer overrides, layers to skip), with a report per
     * layer; optionally measured against the input model and refused below a floor. Deterministic.
     */
    public static final OperatorDescriptor PRUNE = operator("prune", "Prune", TaskQueues.CPU, true);

    /**
     * Weight sharing: k-means (k = 2^bits) per tensor or per channel, stored as uint8 indices and a float codebook
     * rebuilt at load; optionally measured and refused below a floor. The same seed gives the same model.
     */
    public static final OperatorDescriptor CLUSTER = operator("cluster", "Cluster", TaskQueues.CPU, true);

    /**
     * Low-rank factorisation of Gemm/MatMul weights by truncated SVD, rank by energy kept, a parameter budget or
     * per layer; optionally measured and refused below a floor. Deterministic.
     */
    public static final OperatorDescriptor LOWRANK = operator("lowrank", "LowRank", TaskQueues.CPU, true);

    /**
     * Compiles an ONNX model for a runtime: {@code target: tflite} (float32 or float16 weights), verified in the
     * TFLite interpreter against ONNX Runtime FP32 when {@code dataset} is given. {@code tensorrt} is refused in this
     * build (GPU workers). Deterministic: the same model and options give the same bytes.
     */
    public static final OperatorDescriptor COMPILE = operator("compile", "Compile", TaskQueues.CPU, true);

    /**
     * Measures a candidate model on a dataset (accuracy, top-k, per-class precision/recall, confusion
     * matrix, latency percentiles, throughput, size, session memory) and against reference models.
     * Latency differs run to run, so results are never reused from the cache.
     */
    public static final OperatorDescriptor VALIDATE = operator("validate", "Validate", TaskQueues.CPU, false);

    /**
     * Checks a validation report against a policy; a failed rule fails the task (not retried) with the
     * table of failed rules. Left out, {@code report} is the upstream task's {@code report} output.
     */
    public static final OperatorDescriptor GATE = operator("gate", "Gate", TaskQueues.CPU, false);

    /**
     * Waits for reviewers: the workflow itself runs this operator (an Update per decision), no activity.
     * {@code timeout} (e.g. 2d) ends the wait: {@code on_timeout: fail} (default) or {@code reject}.
     */
    public static final OperatorDescriptor APPROVAL = operator("approval", "Approval", TaskQueues.CPU, false);

    /**
     * A canary rollout behind a gateway endpoint: steps of traffic weight, each judged on the window's
     * error rate and p95 latency against the stable version; promotes or rolls back. Never cached: a
     * rollout acts on live traffic.
     */
    public static final OperatorDescriptor CANARY = operator("canary", "Canary", TaskQueues.CPU, false);

    /**
     * Runs a team's own program (argv, never a shell string) on a worker that enables commands, with its
     * inputs in a private working directory and its declared outputs uploaded. Never cached: a script may
     * read the clock, the network or a random seed, so equal inputs do not promise equal outputs.
     */
    public static final OperatorDescriptor COMMAND = operator("command", "Command", TaskQueues.CPU, false);

    /**
     * Hands training to a configured outside service (named in the worker's config, never a URL from the spec):
     * POSTs it a job with presigned dataset and upload URLs and a task token, and frees the worker; the service
     * heartbeats and completes or fails the task through /api/tasks/{token}/... (Temporal's asynchronous
     * completion). An outside service's result is not reproducible, so it is never cached.
     */
    public static final OperatorDescriptor EXTERNAL = operator("external", "External", TaskQueues.CPU, false);

    /** An external task's default heartbeat timeout: a training service silent this long is taken for dead. */
    public static final java.time.Duration EXTERNAL_HEARTBEAT = java.time.Duration.ofMinutes(2);

    /** An external task's default overall timeout (start to close of one attempt). */
    public static final java.time.Duration EXTERNAL_TIMEOUT = java.time.Duration.ofHours(6);

    /**
     * Trains a Tribuo model on a tabular dataset and exports it to ONNX, with train/validation figures and the loss
     * per epoch. Seeded: the same data, trainer, parameters and seed give the same model bytes, so it is cached.
     */
    public static final OperatorDescriptor TRAIN = operator("train", "Train", TaskQueues.CPU, true);

    /**
     * Distillation: runs a teacher model over a tabular dataset and publishes its hard labels (a dataset for
     * {@code train}) and its probabilities at a temperature ({@code soft_labels}). Deterministic.
     */
    public static final OperatorDescriptor LABEL = operator("label", "Label", TaskQueues.CPU, true);

    /**
     * Operators that heartbeat at least every few seconds while they work (quantize per calibration and
     * evaluation batch, sleep every second), and how long a silence means their
     * worker is gone: the attempt is retried then, instead of at its execution timeout (an hour).
     */
    private static final Map<String, java.time.Duration> HEARTBEAT_TIMEOUTS = Map.of(
            "quantize", java.time.Duration.ofMinutes(2),
            "prune", java.time.Duration.ofMinutes(2),
            "cluster", java.time.Duration.ofMinutes(2),
            "lowrank", java.time.Duration.ofMinutes(2),
            // every SGD epoch heartbeats, but LibSVM / LibLinear fit in one call that says nothing until it ends
            "train", java.time.Duration.ofMinutes(10),
            "command", java.time.Duration.ofMinutes(1),
            "sleep", java.time.Duration.ofSeconds(30));

    private BuiltInOperators() {}

    /** The heartbeat timeout for an operator's task activity, for the operators that heartbeat. */
    public static java.util.Optional<java.time.Duration> heartbeatTimeout(String operator) {
        return java.util.Optional.ofNullable(HEARTBEAT_TIMEOUTS.get(operator));
    }

    public static List<OperatorDescriptor> all() {
        return List.of(INSPECT, CONVERT, NOOP, SLEEP, QUANTIZE, PRUNE, CLUSTER, LOWRANK, COMPILE, VALIDATE, GATE, APPROVAL, CANARY,
                COMMAND, EXTERNAL, TRAIN, LABEL);
    }

    /**
     * {@code with.<key>} of an external task as a duration, or {@code fallback} when it is absent or not a duration
     * (the schema refuses that when the spec is submitted; a reference that resolved to a bad value falls back).
     */
    public static java.time.Duration externalDuration(Map<String, Object> with, String key, java.time.Duration fallback) {
        return with != null && with.get(key) instanceof String text
                ? Durations.parse(text).filter(d -> !d.isNegative() && !d.isZero()).orElse(fallback) : fallback;
    }

    /** An operator whose {@code with} schema is the one the published pipeline schema gives it. */
    private static OperatorDescriptor operator(String name, String activityType, String taskQueue, boolean deterministic) {
        JsonNode schema = Holder.OPERATOR_SCHEMAS.get(name);
        if (schema == null || !schema.isObject()) {
            throw new IllegalStateException(PIPELINE_SCHEMA + " has no with schema for operator '" + name
                    + "' under " + OPERATORS_POINTER + "; add one there");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> withSchema = Holder.JSON.convertValue(schema, LinkedHashMap.class);
        return new OperatorDescriptor(name, activityType, taskQueue, withSchema, deterministic);
    }

    /** Read before the descriptors above are built (a nested class initialises on first use). */
    private static final class Holder {
        static final ObjectMapper JSON = new ObjectMapper();
        static final JsonNode OPERATOR_SCHEMAS = read().at(OPERATORS_POINTER);

        private static JsonNode read() {
            try (InputStream in = BuiltInOperators.class.getResourceAsStream(PIPELINE_SCHEMA)) {
                if (in == null) {
                    throw new IllegalStateException("missing " + PIPELINE_SCHEMA + " on the class path");
                }
                return JSON.readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + PIPELINE_SCHEMA, e);
            }
        }
    }
}
