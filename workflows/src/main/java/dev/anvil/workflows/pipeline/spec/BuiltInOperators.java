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

    private BuiltInOperators() {}

    public static List<OperatorDescriptor> all() {
        return List.of(INSPECT, CONVERT, NOOP, SLEEP, QUANTIZE, CANARY);
    }

    private static Map<String, Object> schema(String json) {
        return OperatorDescriptor.schemaFromJson(json);
    }
}
