package dev.anvil.modelkit.quantize;

import static dev.anvil.modelkit.quantize.GraphRewrites.finish;
import static dev.anvil.modelkit.quantize.GraphRewrites.nodeBuilder;
import static dev.anvil.modelkit.quantize.GraphRewrites.nodesByName;
import static dev.anvil.modelkit.quantize.GraphRewrites.quantizeGather;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Static quantisation in QDQ format. Every quantised node's run-time inputs and its output pass through a
 * QuantizeLinear/DequantizeLinear pair with calibrated scales; its weights are stored as 8-bit initializers
 * behind a DequantizeLinear (per channel where asked); Conv and Gemm biases are stored as int32 with
 * scale = input scale × weight scale. ONNX Runtime fuses these patterns into integer kernels
 * (QLinearConv, QLinearMatMul, ...).
 */
final class StaticQdqQuantizer {

    private StaticQdqQuantizer() {}

    /** Applies a static plan with the ranges in {@code table}. */
    static ModelQuantizer.Summary apply(OnnxModel model, QuantizationPlan plan, CalibrationTable table,
            QuantizeOptions options) {
        OnnxGraph graph = model.graph();
        Map<String, NodeProto> byName = nodesByName(graph);
        Map<String, QuantParams> activationParams = new HashMap<>();
        for (String tensor : plan.activationTensors()) {
            CalibrationTable.Range range = table.tensors().get(tensor);
            if (range == null) {
                throw new IllegalArgumentException("the calibration table has no range for tensor '" + tensor
                        + "'; it was made for another model or other options: recalibrate");
            }
            activationParams.put(tensor, QuantParams.of(range.min(), range.max(), options.activationType(),
                    options.symmetricActivations()));
        }
        // activation smoothing first: it changes which tensor gets the Q/DQ pair and the weights' values
        Map<String, String> qdqTensor = ActivationSmoothing.apply(graph, plan, table, options, activationParams);
        int smoothed = qdqTensor.size();
        Map<String, String[]> dequantized = new HashMap<>();
        int activations = 0;
        for (String tensor : plan.activationTensors()) {
            String target = qdqTensor.getOrDefault(tensor, tensor);
            String[] qdq = insertQdq(graph, target, activationParams.get(target), options.activationType());
            dequantized.put(target, qdq);
            activations++;
        }
        int weights = 0;
        int biases = 0;
        List<QuantizationPlan.LeftFloat> left = new ArrayList<>(plan.leftFloat());
        Map<String, WeightQuant> weightCache = new HashMap<>();
        for (QuantizationPlan.Target target : plan.targets()) {
            NodeProto node = byName.get(target.node());
            NodeProto.Builder builder = nodeBuilder(graph, target.node());
            if (target.opType().equals("Gather")) {
                quantizeGather(graph, builder, options);
                weights++;
                continue;
            }
            WeightQuant wq = null;
            if (target.weightInput() >= 0) {
                String wName = builder.getInput(target.weightInput()); // smoothing may have replaced it
                int axis = options.perChannel() ? target.weightAxis() : -1;
                String key = wName + "@" + axis;
                wq = weightCache.get(key);
                if (wq == null) {
                    wq = quantizeWeight(graph, graph.initializer(wName).orElseThrow(), axis, options.weightType());
                    weightCache.put(key, wq);
                    weights++;
                }
                builder.setInput(target.weightInput(), wq.dequantizedName());
            }
            if (target.biasInput() >= 0 && wq != null) {
                String input = builder.getInput(target.activationInputs().get(0));
                QuantParams in = activationParams.get(input);
                TensorProto bias = graph.initializer(node.getInput(target.biasInput())).orElseThrow();
                Optional<String> biasDq = quantizeBias(graph, bias, dequantized.get(input)[2], in.scale(), wq, target.node());
                if (biasDq.isPresent()) {
                    builder.setInput(target.biasInput(), biasDq.get());
                    biases++;
                } else {
                    left.add(new QuantizationPlan.LeftFloat(target.node() + "/bias", target.opType(),
                            "bias too large for int32 at this scale; kept in float"));
                }
            }
        }
        // readers of a quantised node's output read the dequantised copy (all of them, so ONNX Runtime can
        // fuse the node with its Q); other tensors are read dequantised only by the quantised nodes, so
        // float paths such as residual connections keep full precision
        Set<String> targetNames = new java.util.HashSet<>();
        plan.targets().forEach(t -> targetNames.add(t.node()));
        Set<String> everyReader = new java.util.HashSet<>();
        for (String output : plan.outputTensors()) {
            everyReader.add(qdqTensor.getOrDefault(output, output));
        }
        for (NodeProto.Builder node : graph.proto().getNodeBuilderList()) {
            for (int i = 0; i < node.getInputCount(); i++) {
                String input = node.getInput(i);
                String[] qdq = dequantized.get(input);
                if (qdq != null && !node.getName().equals(qdq[0])
                        && (everyReader.contains(input) || targetNames.contains(node.getName()))) {
                    node.setInput(i, qdq[1]);
                }
            }
        }
        finish(model, options);
        return new ModelQuantizer.Summary(plan, weights, activations, biases, left, smoothed);
    }

    /** Adds Q → DQ after {@code tensor}; returns the names of the Q node, the dequantised tensor and the scale. */
    private static String[] insertQdq(OnnxGraph graph, String tensor, QuantParams params, QuantType type) {
        String scale = graph.uniqueName(tensor + "_s");
        String zero = graph.uniqueName(tensor + "_zp");
        graph.addInitializer(Tensors.floats(scale, new long[0], new float[] {params.scale()}));
        graph.addInitializer(Tensors.bytes(zero, type.onnxType, new long[0], new byte[] {(byte) params.zeroPoint()}));
        String quantized = graph.uniqueName(tensor + "_q");
        String dequantized = graph.uniqueName(tensor + "_dq");
        String qName = graph.uniqueName(tensor + "_Q");
        graph.addNode(NodeProto.newBuilder().setOpType("QuantizeLinear").setName(qName)
                .addInput(tensor).addInput(scale).addInput(zero).addOutput(quantized).build());
        graph.addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(graph.uniqueName(tensor + "_DQ"))
                .addInput(quantized).addInput(scale).addInput(zero).addOutput(dequantized).build());
        return new String[] {qName, dequantized, scale};
    }

    /** An 8-bit weight behind a DequantizeLinear: the name to read, and the scales used. */
    record WeightQuant(String dequantizedName, String scaleName, float[] scales) {}

    private static WeightQuant quantizeWeight(OnnxGraph graph, TensorProto weight, int axis, QuantType type) {
        long[] dims = Tensors.dims(weight);
        QuantizedWeights quantized = QuantizedWeights.of(Tensors.toFloats(weight), dims, axis, type);
        int channels = quantized.scales().length;
        byte[] q = quantized.values();
        float[] scales = quantized.scales();
        byte[] zeros = quantized.zeros();
        String base = weight.getName();
        String qName = graph.uniqueName(base + "_q");
        String scaleName = graph.uniqueName(base + "_s");
        String zeroName = graph.uniqueName(base + "_zp");
        String dqName = graph.uniqueName(base + "_dq");
        long[] paramDims = axis < 0 ? new long[0] : new long[] {channels};
        graph.addInitializer(Tensors.bytes(qName, type.onnxType, dims, q));
        graph.addInitializer(Tensors.floats(scaleName, paramDims, scales));
        NodeProto.Builder dq = NodeProto.newBuilder().setOpType("DequantizeLinear")
                .setName(graph.uniqueName(base + "_DQ"))
                .addInput(qName).addInput(scaleName).addOutput(dqName);
        if (!allZero(zeros)) { // a zero point of 0 is the default: leave it out to keep the model small
            graph.addInitializer(Tensors.bytes(zeroName, type.onnxType, paramDims, zeros));
            dq.addInput(zeroName);
        }
        if (axis >= 0) {
            dq.addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(axis));
        }
        graph.addNode(dq.build());
        return new WeightQuant(dqName, scaleName, scales);
    }

    /**
     * Stores a bias as int32 with scale = input scale × weight scale. The scale is not stored: a Mul of the
     * two scales computes it (ONNX Runtime folds it at load), which keeps the model small.
     */
    private static Optional<String> quantizeBias(OnnxGraph graph, TensorProto bias, String inputScaleName,
            float inputScale, WeightQuant weight, String node) {
        float[] values = Tensors.toFloats(bias);
        float[] weightScales = weight.scales();
        boolean perChannel = weightScales.length > 1;
        if (perChannel && weightScales.length != values.length) {
            return Optional.empty();
        }
        int[] q = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            // the same float32 product ONNX Runtime computes for the Mul below
            float s = inputScale * weightScales[perChannel ? i : 0];
            if (!(s > 0)) {
                return Optional.empty();
            }
            double v = Math.rint(values[i] / (double) s);
            if (Math.abs(v) > Integer.MAX_VALUE) {
                return Optional.empty();
            }
            q[i] = (int) v;
        }
        String base = bias.getName();
        String qName = graph.uniqueName(base + "_q");
        String scaleName = graph.uniqueName(base + "_s");
        String dqName = graph.uniqueName(base + "_dq");
        graph.addInitializer(Tensors.int32s(qName, Tensors.dims(bias), q));
        graph.addNode(NodeProto.newBuilder().setOpType("Mul").setName(graph.uniqueName(base + "_scale_mul"))
                .addInput(inputScaleName).addInput(weight.scaleName()).addOutput(scaleName).build());
        NodeProto.Builder dq = NodeProto.newBuilder().setOpType("DequantizeLinear")
                .setName(graph.uniqueName(base + "_DQ"))
                .addInput(qName).addInput(scaleName).addOutput(dqName);
        if (perChannel) {
            dq.addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0));
        }
        graph.addNode(dq.build());
        return Optional.of(dqName);
    }

    private static boolean allZero(byte[] values) {
        for (byte b : values) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
