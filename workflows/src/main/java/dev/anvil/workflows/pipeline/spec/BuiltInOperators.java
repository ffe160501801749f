package dev.anvil.workflows.pipeline.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.workflows.TaskQueues;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Descriptors of the operators that ship with the workflows module. Each one's {@code with} schema
 * is read from the published pipeline schema ({@value #PIPELINE_SCHEMA}, under
 * {@value #OPERATORS_POINTER}), so editors and the validator check the same thing.
 */
public final class BuiltInOperators {
    /** The JSON Schema served at /api/schemas/pipeline.json, on the class path. */
    public static final String PIPELINE_SCHEMA = "/schemas/pipeline.json";
    static final String OPERATORS_POINTER = "/$defs/operators";

    /**
     * The heartbeat timeout of operators that run on a worker for more than a moment. The worker heartbeats every
     * running attempt (the operator's own progress, else a keep-alive a few times per timeout), so a silence this
     * long means the worker is gone: Temporal retries the task on another worker then, not at its
     * execution_timeout, and the retry resumes from the last heartbeat's details. A stuck operator on a live
     * worker is ended by its execution_timeout.
     */
    public static final Duration WORKER_HEARTBEAT = Duration.ofSeconds(30);

    /** Loads a model and reports its structure; the same model bytes give the same report. */
    public static final OperatorDescriptor INSPECT = operator("inspect", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Makes a deployable ONNX model: validates it, optionally raises its default-domain opset (7 to 24,
     * never lowers), applies an ONNX Runtime graph optimisation level (extended and all emit ORT-specific
     * operators, all also CPU-specific layouts) and optionally converts it to float16 with float32 inputs
     * and outputs. The same model and settings give the same result.
     */
    public static final OperatorDescriptor CONVERT = operator("convert", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Does nothing, like Airflow's EmptyOperator; for joins, tests and benchmarks. Not cached, so
     * that a benchmark of noop pipelines measures the engine rather than cache hits.
     */
    public static final OperatorDescriptor NOOP = operator("noop", TaskQueues.CPU, false);

    /** Waits {@code seconds}; for tests of timeouts and concurrency. Waiting has no result worth caching. */
    public static final OperatorDescriptor SLEEP = operator("sleep", TaskQueues.CPU, false)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * INT8 quantisation: static (QDQ, ranges calibrated on a dataset artifact or read from a calibration
     * table) or dynamic. The same model, data and options give the same model bytes.
     */
    public static final OperatorDescriptor QUANTIZE = operator("quantize", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Unstructured magnitude pruning (global or per layer, per-layer overrides, layers to skip), with a report per
     * layer; optionally measured against the input model and refused below a floor. Deterministic.
     */
    public static final OperatorDescriptor PRUNE = operator("prune", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Weight sharing: k-means (k = 2^bits) per tensor or per channel, stored as uint8 indices and a float codebook
     * rebuilt at load; optionally measured and refused below a floor. The same seed gives the same model.
     */
    public static final OperatorDescriptor CLUSTER = operator("cluster", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Low-rank factorisation of Gemm/MatMul weights by truncated SVD, rank by energy kept, a parameter budget or
     * per layer; optionally measured and refused below a floor. Deterministic.
     */
    public static final OperatorDescriptor LOWRANK = operator("lowrank", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Compiles an ONNX model for a runtime: {@code target: tflite} (float32, float16 weights, or full-integer int8
     * from a quantize task's {@code calibration_table}) on a CPU worker, verified in the TFLite interpreter against
     * ONNX Runtime FP32 when {@code dataset} is given; {@code target: tensorrt} builds a TensorRT engine on a GPU
     * worker ({@value TaskQueues#GPU}: the descriptor routes it there), verified on {@code dataset} before anything
     * is published. TFLite is deterministic (the same model and options give the same bytes) and cached; a TensorRT
     * build times kernels on the GPU it runs on, so its engine is not, and is never reused from the cache.
     */
    public static final OperatorDescriptor COMPILE = operator("compile", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT)
            .withQueueWhen("target", "tensorrt", TaskQueues.GPU, "TensorRT engines are built on GPU workers", false);

    /**
     * Bundles a model for a device: one zip with the model in its target format (tflite or onnx), the labels and a
     * manifest (signature, preprocessing, quantisation, sha256 of every file, the model's signed provenance). A model
     * in another format, or one without signed provenance, is refused. Not cached: the manifest carries the
     * attestations stored when it runs.
     */
    public static final OperatorDescriptor PACKAGE = operator("package", TaskQueues.CPU, false)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Measures a candidate model on a dataset (accuracy, top-k, per-class precision/recall, confusion
     * matrix, latency percentiles, throughput, size, session memory) and against reference models.
     * Latency differs run to run, so results are never reused from the cache.
     */
    public static final OperatorDescriptor VALIDATE = operator("validate", TaskQueues.CPU, false)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Checks a validation report against a policy; a failed rule fails the task (not retried) with the
     * table of failed rules. Left out, {@code report} is the upstream task's {@code report} output.
     */
    public static final OperatorDescriptor GATE = operator("gate", TaskQueues.CPU, false)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Waits for reviewers: the workflow itself runs this operator (an Update per decision), no activity.
     * {@code timeout} (e.g. 2d) ends the wait: {@code on_timeout: fail} (default) or {@code reject}.
     */
    public static final OperatorDescriptor APPROVAL = operator("approval", TaskQueues.CPU, false);

    /**
     * A canary rollout behind a gateway endpoint: steps of traffic weight, each judged on the window's
     * error rate and p95 latency against the stable version; promotes or rolls back. Never cached: a
     * rollout acts on live traffic. The pipeline workflow runs it (checks, then the rollout as a child
     * workflow, then the task's record), so it has no heartbeat: a human pause may last hours.
     */
    public static final OperatorDescriptor CANARY = operator("canary", TaskQueues.CPU, false);

    /**
     * Runs a team's own program (argv, never a shell string) on a worker that enables commands, with its
     * inputs in a private working directory and its declared outputs uploaded. Never cached: a script may
     * read the clock, the network or a random seed, so equal inputs do not promise equal outputs.
     */
    public static final OperatorDescriptor COMMAND = operator("command", TaskQueues.CPU, false)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Hands training to a configured outside service (named in the worker's config, never a URL from the spec):
     * POSTs it a job with presigned dataset and upload URLs and a task token, and frees the worker; the service
     * heartbeats and completes or fails the task through /api/tasks/{token}/... (Temporal's asynchronous
     * completion). An outside service's result is not reproducible, so it is never cached.
     */
    public static final OperatorDescriptor EXTERNAL = operator("external", TaskQueues.CPU, false)
            .withHeartbeatTimeout(Duration.ofMinutes(2)).withExecutionTimeout(Duration.ofHours(6));

    /** An external task's default heartbeat timeout: a training service silent this long is taken for dead. */
    public static final Duration EXTERNAL_HEARTBEAT = EXTERNAL.heartbeatTimeout().orElseThrow();

    /** An external task's default overall timeout (start to close of one attempt). */
    public static final Duration EXTERNAL_TIMEOUT = EXTERNAL.executionTimeout().orElseThrow();

    /**
     * Trains a Tribuo model on a tabular dataset and exports it to ONNX, with train/validation figures and the loss
     * per epoch. Seeded: the same data, trainer, parameters and seed give the same model bytes, so it is cached.
     */
    public static final OperatorDescriptor TRAIN = operator("train", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Distillation: runs a teacher model over a tabular dataset and publishes its hard labels (a dataset for
     * {@code train}) and its probabilities at a temperature ({@code soft_labels}). Deterministic.
     */
    public static final OperatorDescriptor LABEL = operator("label", TaskQueues.CPU, true)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Drift monitoring: compares an endpoint version's sampled live traffic with a registered reference dataset
     * (PSI and KS per feature, chi-square and PSI on predicted classes) and records the report. Not cached: the
     * live window changes between runs.
     */
    public static final OperatorDescriptor DRIFT = operator("drift", TaskQueues.CPU, false)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    /**
     * Tries a grid of compressions (sparsity × bits × rank, at most 27 points) on an evaluation dataset, reports the
     * Pareto front of size, quality drop and latency, and publishes the point chosen within {@code max_drop} and
     * {@code max_size_ratio}. Latency differs run to run and may move the front, so it is never cached.
     */
    public static final OperatorDescriptor COMPRESS = operator("compress", TaskQueues.CPU, false)
            .withHeartbeatTimeout(WORKER_HEARTBEAT);

    private BuiltInOperators() {}

    /** The built-in operator named {@code name}, if any. */
    public static Optional<OperatorDescriptor> find(String name) {
        return all().stream().filter(d -> d.name().equals(name)).findFirst();
    }

    public static List<OperatorDescriptor> all() {
        return List.of(INSPECT, CONVERT, NOOP, SLEEP, QUANTIZE, PRUNE, CLUSTER, LOWRANK, COMPILE, VALIDATE, GATE, APPROVAL, CANARY,
                COMMAND, EXTERNAL, TRAIN, LABEL, COMPRESS, DRIFT, PACKAGE);
    }

    /**
     * {@code with.<key>} of an external task as a duration, or {@code fallback} when it is absent or not a duration
     * (the schema refuses that when the spec is submitted; a reference that resolved to a bad value falls back).
     */
    public static Duration externalDuration(Map<String, Object> with, String key, Duration fallback) {
        return with != null && with.get(key) instanceof String text
                ? Durations.parse(text).filter(d -> !d.isNegative() && !d.isZero()).orElse(fallback) : fallback;
    }

    /** An operator whose {@code with} schema is the one the published pipeline schema gives it. */
    private static OperatorDescriptor operator(String name, String taskQueue, boolean deterministic) {
        JsonNode schema = Holder.OPERATOR_SCHEMAS.get(name);
        if (schema == null || !schema.isObject()) {
            throw new IllegalStateException(PIPELINE_SCHEMA + " has no with schema for operator '" + name
                    + "' under " + OPERATORS_POINTER + "; add one there");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> withSchema = Holder.JSON.convertValue(schema, LinkedHashMap.class);
        return new OperatorDescriptor(name, taskQueue, withSchema, deterministic);
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
