package dev.anvil.workflows.pipeline.spec;

import dev.anvil.workflows.TaskQueues;
import java.util.List;
import java.util.Map;

/** Descriptors of the operators that ship with the workflows module. */
public final class BuiltInOperators {
    /** Loads a model and reports its structure; the same model bytes give the same report. */
    public static final OperatorDescriptor INSPECT = new OperatorDescriptor("inspect", "InspectModel", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {"model": {"type": "string", "description": "model artifact URI or a reference to one"}},
                     "required": ["model"],
                     "additionalProperties": false}
                    """), true);

    /**
     * Makes a deployable ONNX model: validates it, optionally raises its default-domain opset (7 to 24,
     * never lowers), applies an ONNX Runtime graph optimisation level (extended and all emit ORT-specific
     * operators, all also CPU-specific layouts) and optionally converts it to float16 with float32 inputs
     * and outputs. The same model and settings give the same result.
     */
    public static final OperatorDescriptor CONVERT = new OperatorDescriptor("convert", "ConvertModel", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {
                       "model": {"type": ["string", "object"],
                                 "description": "the model: an upstream task's model output or the sha256 of an uploaded artifact"},
                       "opset": {"type": "integer", "minimum": 7, "maximum": 24,
                                 "description": "ai.onnx opset to raise to; left out, the model's opset is kept"},
                       "optimization": {"type": "string", "enum": ["none", "basic", "extended", "all"], "default": "basic",
                                        "description": "ONNX Runtime graph optimisation saved with the model"},
                       "fp16": {"type": "boolean", "default": false,
                                "description": "compute in float16; graph inputs and outputs stay float32"}},
                     "required": ["model"],
                     "additionalProperties": false}
                    """), true);

    /**
     * Does nothing, like Airflow's EmptyOperator; for joins, tests and benchmarks. Not cached, so
     * that a benchmark of noop pipelines measures the engine rather than cache hits.
     */
    public static final OperatorDescriptor NOOP = new OperatorDescriptor("noop", "Noop", TaskQueues.CPU,
            schema("""
                    {"type": "object", "properties": {}, "additionalProperties": false}
                    """), false);

    /** Waits {@code seconds}; for tests of timeouts and concurrency. Waiting has no result worth caching. */
    public static final OperatorDescriptor SLEEP = new OperatorDescriptor("sleep", "Sleep", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": 3600}},
                     "required": ["seconds"],
                     "additionalProperties": false}
                    """), false);

    /**
     * INT8 quantisation: static (QDQ, ranges calibrated on a dataset artifact or read from a calibration
     * table) or dynamic. The same model, data and options give the same model bytes.
     */
    public static final OperatorDescriptor QUANTIZE = new OperatorDescriptor("quantize", "Quantize", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {
                       "model": {"type": "string", "description": "the float ONNX model (artifact sha256 or a reference)"},
                       "mode": {"enum": ["static", "dynamic"], "default": "static"},
                       "dataset": {"type": "string", "description": "calibration dataset artifact (static mode)"},
                       "calibration_table": {"type": "string", "description": "reuse the ranges of an earlier calibration"},
                       "method": {"enum": ["minmax", "percentile", "entropy"], "default": "minmax"},
                       "percentile": {"type": "number", "minimum": 50, "maximum": 100, "default": 99.999},
                       "samples": {"type": "integer", "minimum": 0, "description": "calibration samples, 0 = all"},
                       "batch_size": {"type": "integer", "minimum": 1, "maximum": 4096, "default": 32},
                       "per_channel": {"type": "boolean", "default": true},
                       "activation_type": {"enum": ["u8", "s8"], "default": "u8"},
                       "weight_type": {"enum": ["s8", "u8"], "default": "s8"},
                       "symmetric_activations": {"type": "boolean", "default": false},
                       "smooth": {"type": "number", "minimum": 0, "maximum": 0.99, "default": 0,
                                  "description": "experimental: SmoothQuant strength for MatMul inputs (static; 0 = off)"},
                       "op_types": {"type": "array", "items": {"enum": ["Conv", "MatMul", "Gemm", "Gather"]}},
                       "exclude_op_types": {"type": "array", "items": {"type": "string"}},
                       "exclude_nodes": {"type": "array", "items": {"type": "string"}},
                       "evaluation": {"type": "object",
                         "properties": {
                           "dataset": {"type": "string", "description": "evaluation dataset artifact"},
                           "pooling": {"enum": ["none", "mean"], "default": "none"},
                           "samples": {"type": "integer", "minimum": 0}},
                         "required": ["dataset"],
                         "additionalProperties": false}},
                     "required": ["model"],
                     "additionalProperties": false}
                    """), true);

    /**
     * Measures a candidate model on a dataset (accuracy, top-k, per-class precision/recall, confusion
     * matrix, latency percentiles, throughput, size, session memory) and against reference models.
     * Latency differs run to run, so results are never reused from the cache.
     */
    public static final OperatorDescriptor VALIDATE = new OperatorDescriptor("validate", "Validate", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {
                       "model": {"type": ["string", "object"], "description": "the candidate ONNX model"},
                       "dataset": {"type": ["string", "object"], "description": "dataset artifact (labels.npy gives accuracy)"},
                       "reference": {"type": ["string", "object"], "description": "a model to compare with, reported as 'input' (e.g. the float original)"},
                       "registry_model": {"type": "string", "description": "registered model whose registry_alias version is compared with"},
                       "registry_alias": {"type": "string", "default": "production"},
                       "batch_size": {"type": "integer", "minimum": 1, "maximum": 4096, "default": 32},
                       "threads": {"type": "integer", "minimum": 1, "maximum": 256, "default": 1},
                       "top_k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5},
                       "samples": {"type": "integer", "minimum": 0, "description": "at most this many samples, 0 = all"},
                       "warmup_batches": {"type": "integer", "minimum": 0, "default": 2}},
                     "required": ["model", "dataset"],
                     "additionalProperties": false}
                    """), false);

    /**
     * Checks a validation report against a policy; a failed rule fails the task (not retried) with the
     * table of failed rules. Left out, {@code report} is the upstream task's {@code report} output.
     */
    public static final OperatorDescriptor GATE = new OperatorDescriptor("gate", "Gate", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {
                       "report": {"type": ["string", "object"], "description": "validation report; default: the upstream task's report output"},
                       "require": {"type": "object", "description": "rules: accuracy: '>= 0.985', p95_latency_ms: '<= 5', accuracy_drop_vs: {model: production, max: 0.005}, size_ratio_vs: {model: input, max: 0.3}, ..."}},
                     "required": ["require"],
                     "additionalProperties": false}
                    """), false);

    /**
     * Waits for reviewers: the workflow itself runs this operator (an Update per decision), no activity.
     * {@code timeout} (e.g. 2d) ends the wait: {@code on_timeout: fail} (default) or {@code reject}.
     */
    public static final OperatorDescriptor APPROVAL = new OperatorDescriptor("approval", "Approval", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {
                       "required_approvals": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                       "timeout": {"type": "string", "description": "a duration such as 30m, 2d; left out, the run waits until decided"},
                       "on_timeout": {"enum": ["fail", "reject"], "default": "fail"},
                       "summary": {"type": "string", "description": "what the reviewer is asked to decide"}},
                     "additionalProperties": false}
                    """), false);

    /**
     * A canary rollout behind a gateway endpoint: steps of traffic weight, each judged on the window's
     * error rate and p95 latency against the stable version; promotes or rolls back. Never cached: a
     * rollout acts on live traffic.
     */
    public static final OperatorDescriptor CANARY = new OperatorDescriptor("canary", "Canary", TaskQueues.CPU,
            schema("""
                    {"type": "object",
                     "properties": {
                       "endpoint": {"type": "string", "description": "gateway endpoint serving the stable version"},
                       "model": {"type": "string", "description": "the candidate model (artifact sha256 or an upstream output)"},
                       "steps": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 100}},
                       "interval": {"type": "string", "description": "analysis window per step, e.g. 10m"},
                       "min_requests": {"type": "integer", "minimum": 0},
                       "max_extensions": {"type": "integer", "minimum": 0},
                       "analysis": {"type": "object",
                         "properties": {
                           "max_error_rate": {"type": "number", "minimum": 0, "maximum": 1},
                           "max_p95_latency_ratio": {"type": "number", "minimum": 1}},
                         "additionalProperties": false}},
                     "required": ["endpoint", "model"],
                     "additionalProperties": false}
                    """), false);

    /**
     * Operators that heartbeat at least every few seconds while they work (quantize per calibration and
     * evaluation batch, canary every poll), and how long a silence means their worker is gone.
     */
    private static final Map<String, java.time.Duration> HEARTBEAT_TIMEOUTS = Map.of(
            "quantize", java.time.Duration.ofMinutes(2),
            "canary", java.time.Duration.ofMinutes(1));

    private BuiltInOperators() {}

    /** The heartbeat timeout for an operator's task activity, for the operators that heartbeat. */
    public static java.util.Optional<java.time.Duration> heartbeatTimeout(String operator) {
        return java.util.Optional.ofNullable(HEARTBEAT_TIMEOUTS.get(operator));
    }

    public static List<OperatorDescriptor> all() {
        return List.of(INSPECT, CONVERT, NOOP, SLEEP, QUANTIZE, VALIDATE, GATE, APPROVAL, CANARY);
    }

    private static Map<String, Object> schema(String json) {
        return OperatorDescriptor.schemaFromJson(json);
    }
}
