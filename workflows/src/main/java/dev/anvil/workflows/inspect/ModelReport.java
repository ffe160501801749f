package dev.anvil.workflows.inspect;

import java.util.List;
import java.util.Map;

/**
 * What inspecting an ONNX model found. Small on purpose: it travels in workflow history and is
 * stored as task-run metrics.
 *
 * @param opsets         operator-set version per domain ("" is the default ONNX domain)
 * @param parameterCount elements in all initializers and Constant-node tensors, those of control-flow
 *                       sub-graphs included (both branches of an If: both are stored in the file)
 * @param warnings       problems the model has that did not stop it loading, each with its fix (e.g. a
 *                       node using an operator domain the model does not import); empty when none. Runs
 *                       recorded before warnings existed read back with none.
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
        List<TensorSpec> outputs,
        List<String> warnings) {

    public ModelReport {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }
}
