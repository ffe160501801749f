package dev.anvil.modelkit.quantize;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.util.List;
import java.util.Set;

/**
 * Rewrites a float ONNX model into an INT8 one: {@link #plan} decides what to quantise, calibration
 * ({@link Calibrator}) measures the ranges static mode needs, and {@link #applyStatic} or
 * {@link #applyDynamic} rewrites the model in place.
 * <ul>
 *   <li><b>static</b>: QDQ format: Q/DQ pairs with calibrated scales around every quantised node, 8-bit
 *       weights, int32 biases ({@link StaticQdqQuantizer}), optionally after activation smoothing
 *       ({@link ActivationSmoothing}).</li>
 *   <li><b>dynamic</b>: 8-bit weights; MatMul and Gemm quantise their activations at run time
 *       ({@link DynamicQuantizer}).</li>
 * </ul>
 * Gather over a float weight table (embeddings) is stored as 8-bit in both modes: the gather reads the
 * 8-bit table and a DequantizeLinear restores floats for the gathered rows only.
 *
 * <p>Nodes in sub-graphs ({@code If}, {@code Loop}, {@code Scan}), in non-standard domains, or not of
 * a supported type stay float and are reported with the reason ({@link QuantizationPlanner}).
 */
public final class ModelQuantizer {

    private ModelQuantizer() {}

    /** What a rewrite did, for the report. */
    public record Summary(QuantizationPlan plan, int weightsQuantized, int activationsQuantized, int biasesQuantized,
            List<QuantizationPlan.LeftFloat> leftFloat, int activationsSmoothed) {}

    /**
     * Decides what to quantise. Lifts {@code Constant} weights into initializers and names unnamed nodes
     * (both in place) so the plan can refer to them.
     *
     * @throws InvalidModelException when the model's opset cannot carry the requested quantisation
     */
    public static QuantizationPlan plan(OnnxModel model, QuantizeOptions options) {
        SubgraphGuard.check(model, options);
        return QuantizationPlanner.plan(model, options);
    }

    /**
     * The tensors a static calibration measures, and so the published table holds: the plan's activations (what ONNX
     * INT8 uses) and those a full-integer TFLite compile of the same model reads
     * ({@link dev.anvil.modelkit.compile.TfliteConverter#int8RangeTensors}: ADD/MUL/LEAKY_RELU/HARD_SWISH outputs,
     * folded BatchNormalization outputs, ...), so one table serves both. The extra tensors are measured on their own
     * and never used by the ONNX rewrite, which reads only {@link QuantizationPlan#activationTensors()}.
     */
    public static Set<String> calibrationTensors(OnnxModel model, QuantizationPlan plan) {
        Set<String> out = new java.util.LinkedHashSet<>(plan.activationTensors());
        out.addAll(dev.anvil.modelkit.compile.TfliteConverter.int8RangeTensors(model));
        return out;
    }

    /** Tensors whose per-channel ranges calibration must keep for activation smoothing. */
    public static Set<String> smoothingCandidates(OnnxModel model, QuantizationPlan plan, QuantizeOptions options) {
        return ActivationSmoothing.candidates(model, plan, options);
    }

    /** Applies a static plan with the ranges in {@code table}. */
    public static Summary applyStatic(OnnxModel model, QuantizationPlan plan, CalibrationTable table,
            QuantizeOptions options) {
        return StaticQdqQuantizer.apply(model, plan, table, options);
    }

    /** Applies a dynamic plan: no calibration, activations quantised at run time. */
    public static Summary applyDynamic(OnnxModel model, QuantizationPlan plan, QuantizeOptions options) {
        return DynamicQuantizer.apply(model, plan, options);
    }
}
