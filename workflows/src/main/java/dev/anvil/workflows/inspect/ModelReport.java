package dev.anvil.workflows.inspect;

import java.util.List;
import java.util.Map;

/**
 * What inspecting an ONNX model found. Small on purpose: it travels in workflow history and is
 * stored as task-run metrics.
 *
 * @param opsets         operator-set version per domain ("" is the default ONNX domain)
 * @param parameterCount elements in all initializers and Constant-node tensors
 */
public record ModelReport(
        String sha256,
        long sizeBytes,
        long irVersion,
        Map<String, Long> opsets,
        String producer,
        String graphName,
        int nodeCount,
        long parameterCount,
        List<TensorSpec> inputs,
        List<TensorSpec> outputs) {}
