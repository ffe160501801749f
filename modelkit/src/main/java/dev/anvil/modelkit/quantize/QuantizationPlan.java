package dev.anvil.modelkit.quantize;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which nodes a quantisation rewrites and how, and which stay in float and why.
 *
 * @param targets           nodes to quantise
 * @param leftFloat         nodes left in float, each with the reason
 * @param activationTensors float tensors whose ranges static quantisation needs (calibration measures these)
 * @param outputTensors     those of them that are quantised nodes' outputs: every reader of these reads the
 *                          dequantised copy (so ONNX Runtime can fuse the producer with its Q); inputs produced
 *                          elsewhere are read dequantised only by the quantised nodes
 */
public record QuantizationPlan(List<Target> targets, List<LeftFloat> leftFloat, Set<String> activationTensors,
        Set<String> outputTensors) {

    /**
     * A node to quantise.
     *
     * @param activationInputs indices of inputs computed at run time
     * @param weightInput      index of the constant weight input, or -1
     * @param weightAxis       the weight's channel axis for per-channel scales
     * @param biasInput        index of a constant bias input to store as int32, or -1
     * @param quantizeOutput   whether the output gets a Q/DQ pair too (static mode)
     */
    public record Target(String node, String opType, List<Integer> activationInputs, int weightInput, int weightAxis,
            int biasInput, boolean quantizeOutput) {}

    public record LeftFloat(String node, String opType, String reason) {}

    public Map<String, Integer> targetsByOpType() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        targets.forEach(t -> counts.merge(t.opType(), 1, Integer::sum));
        return counts;
    }

    /** Left-float nodes grouped by reason, with their count: a readable summary for large models. */
    public Map<String, Integer> leftFloatByReason() {
        return byReason(leftFloat);
    }

    /** Nodes left float, counted per "op type: reason". */
    public static Map<String, Integer> byReason(List<LeftFloat> leftFloat) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        leftFloat.forEach(l -> counts.merge(l.opType() + ": " + l.reason(), 1, Integer::sum));
        return counts;
    }

}
