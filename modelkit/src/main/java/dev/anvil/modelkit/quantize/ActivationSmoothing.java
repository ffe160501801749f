package dev.anvil.modelkit.quantize;

import static dev.anvil.modelkit.quantize.GraphRewrites.nodeBuilder;
import static dev.anvil.modelkit.quantize.GraphRewrites.nodesByName;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Activation smoothing (SmoothQuant) for static quantisation: moves outlier channels of a MatMul's input
 * into its weight, where per-channel scales absorb them. Calibration keeps per-channel ranges for the
 * {@link #candidates candidates}; the static rewrite smooths them before it places its Q/DQ pairs.
 */
final class ActivationSmoothing {

    private ActivationSmoothing() {}

    /** Tensors whose per-channel ranges calibration must keep for activation smoothing. */
    static Set<String> candidates(OnnxModel model, QuantizationPlan plan, QuantizeOptions options) {
        Set<String> candidates = new LinkedHashSet<>();
        if (options.mode() != QuantizeOptions.Mode.STATIC || options.smoothAlpha() <= 0) {
            return candidates;
        }
        Map<String, NodeProto> byName = nodesByName(model.graph());
        for (QuantizationPlan.Target t : plan.targets()) {
            if (t.opType().equals("MatMul") && t.weightInput() == 1) {
                candidates.add(byName.get(t.node()).getInput(0));
            }
        }
        return candidates;
    }

    /**
     * Smooths every activation tensor of {@code plan} that qualifies, adding each smoothed tensor's
     * parameters to {@code params}. Returns activation tensor → the smoothed tensor that takes its Q/DQ
     * pair; empty when smoothing is off.
     */
    static Map<String, String> apply(OnnxGraph graph, QuantizationPlan plan, CalibrationTable table,
            QuantizeOptions options, Map<String, QuantParams> params) {
        Map<String, String> smoothed = new HashMap<>();
        if (options.smoothAlpha() > 0) {
            for (String tensor : plan.activationTensors()) {
                smooth(graph, plan, tensor, table.tensors().get(tensor), options, params)
                        .ifPresent(s -> smoothed.put(tensor, s));
            }
        }
        return smoothed;
    }

    /**
     * Activation smoothing (SmoothQuant): when every quantised reader of {@code tensor} is a MatMul with a
     * constant 2-D weight, divides each input channel k by s_k = max|x_k|^α / max|w_k|^(1-α) (a Mul before
     * the MatMuls) and multiplies row k of each weight by s_k. The product is unchanged, but outlier
     * channels no longer stretch the activation's single 8-bit range; the weights absorb them per channel.
     * The smoothed tensor's range follows from the per-channel ranges calibration kept. Returns the name
     * of the smoothed tensor, or empty when the tensor does not qualify.
     */
    private static Optional<String> smooth(OnnxGraph graph, QuantizationPlan plan, String tensor,
            CalibrationTable.Range range, QuantizeOptions options, Map<String, QuantParams> params) {
        if (range == null || range.channelMin() == null) {
            return Optional.empty();
        }
        List<NodeProto.Builder> readers = new ArrayList<>();
        for (QuantizationPlan.Target t : plan.targets()) {
            NodeProto.Builder b = nodeBuilder(graph, t.node());
            boolean reads = t.activationInputs().stream().anyMatch(i -> b.getInput(i).equals(tensor));
            if (!reads) {
                continue;
            }
            if (!t.opType().equals("MatMul") || t.weightInput() != 1 || !b.getInput(0).equals(tensor)) {
                return Optional.empty();
            }
            readers.add(b);
        }
        int channels = range.channelMin().length;
        double[] weightMax = new double[channels];
        for (NodeProto.Builder b : readers) {
            TensorProto w = graph.initializer(b.getInput(1)).orElse(null);
            if (w == null || Tensors.dims(w).length != 2 || Tensors.dims(w)[0] != channels) {
                return Optional.empty();
            }
            float[] v = Tensors.toFloats(w);
            int cols = (int) Tensors.dims(w)[1];
            for (int i = 0; i < v.length; i++) {
                weightMax[i / cols] = Math.max(weightMax[i / cols], Math.abs(v[i]));
            }
        }
        if (readers.isEmpty()) {
            return Optional.empty();
        }
        double alpha = options.smoothAlpha();
        float[] scale = new float[channels];
        float[] inverse = new float[channels];
        double lo = 0;
        double hi = 0;
        for (int k = 0; k < channels; k++) {
            double a = Math.max(Math.abs(range.channelMin()[k]), Math.abs(range.channelMax()[k]));
            double s = a > 0 && weightMax[k] > 0 ? Math.pow(a, alpha) / Math.pow(weightMax[k], 1 - alpha) : 1;
            s = Math.max(1e-4, Math.min(1e4, s));
            scale[k] = (float) s;
            inverse[k] = (float) (1 / s);
            lo = Math.min(lo, range.channelMin()[k] * inverse[k]);
            hi = Math.max(hi, range.channelMax()[k] * inverse[k]);
        }
        String inverseName = graph.uniqueName(tensor + "_smooth_inv");
        String smoothedName = graph.uniqueName(tensor + "_smoothed");
        graph.addInitializer(Tensors.floats(inverseName, new long[] {channels}, inverse));
        graph.addNode(NodeProto.newBuilder().setOpType("Mul").setName(graph.uniqueName(tensor + "_Smooth"))
                .addInput(tensor).addInput(inverseName).addOutput(smoothedName).build());
        for (NodeProto.Builder b : readers) {
            TensorProto w = graph.initializer(b.getInput(1)).orElseThrow();
            float[] v = Tensors.toFloats(w);
            int cols = (int) Tensors.dims(w)[1];
            for (int i = 0; i < v.length; i++) {
                v[i] *= scale[i / cols];
            }
            String scaledName = graph.uniqueName(w.getName() + "_smoothed");
            graph.addInitializer(Tensors.floats(scaledName, Tensors.dims(w), v));
            b.setInput(0, smoothedName).setInput(1, scaledName);
        }
        params.put(smoothedName, QuantParams.of(lo, hi, options.activationType(), options.symmetricActivations()));
        return Optional.of(smoothedName);
    }
}
