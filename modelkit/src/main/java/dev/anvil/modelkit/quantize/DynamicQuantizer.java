package dev.anvil.modelkit.quantize;

import static dev.anvil.modelkit.quantize.GraphRewrites.finish;
import static dev.anvil.modelkit.quantize.GraphRewrites.intAttr;
import static dev.anvil.modelkit.quantize.GraphRewrites.nodeBuilder;
import static dev.anvil.modelkit.quantize.GraphRewrites.quantizeGather;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;

/**
 * Dynamic quantisation: weights stored as 8-bit; MatMul and Gemm run as DynamicQuantizeLinear →
 * MatMulInteger → Cast → Mul, the pattern ONNX Runtime fuses into DynamicQuantizeMatMul, so activations
 * are quantised at run time with their own per-batch range. Gather weight tables are stored as 8-bit as in
 * static mode ({@link GraphRewrites#quantizeGather}); Conv stays float.
 */
final class DynamicQuantizer {

    private DynamicQuantizer() {}

    /** Applies a dynamic plan: no calibration, activations quantised at run time. */
    static ModelQuantizer.Summary apply(OnnxModel model, QuantizationPlan plan, QuantizeOptions options) {
        OnnxGraph graph = model.graph();
        int weights = 0;
        for (QuantizationPlan.Target target : plan.targets()) {
            NodeProto.Builder node = nodeBuilder(graph, target.node());
            switch (target.opType()) {
                case "Gather" -> quantizeGather(graph, node, options);
                case "MatMul", "Gemm" -> dynamicMatMul(graph, node, options);
                default -> throw new IllegalStateException(target.opType());
            }
            weights++;
        }
        finish(model, options);
        return new ModelQuantizer.Summary(plan, weights, 0, 0, plan.leftFloat(), 0);
    }

    /**
     * MatMul(A, W) or Gemm(A, W, C) becomes
     * DynamicQuantizeLinear(A) → MatMulInteger(Aq, Wq, Azp, Wzp) → Cast → Mul(Ascale × Wscale) [→ Add(C)].
     * The original node is turned into the final Mul (or Add), so its output name is kept.
     */
    private static void dynamicMatMul(OnnxGraph graph, NodeProto.Builder node, QuantizeOptions options) {
        boolean gemm = node.getOpType().equals("Gemm");
        TensorProto weight = graph.initializer(node.getInput(1)).orElseThrow();
        if (gemm && intAttr(node.build(), "transB", 0) != 0) {
            weight = transpose2d(weight, graph.uniqueName(weight.getName() + "_transposed"));
        }
        long[] dims = Tensors.dims(weight);
        int axis = options.perChannel() ? dims.length - 1 : -1;
        QuantType type = options.weightType();
        QuantizedWeights quantized = QuantizedWeights.of(Tensors.toFloats(weight), dims, axis, type);
        int columns = quantized.scales().length;
        byte[] q = quantized.values();
        float[] scales = quantized.scales();
        byte[] zeros = quantized.zeros();
        String name = node.getName();
        String a = node.getInput(0);
        String output = node.getOutput(0);
        String wq = graph.uniqueName(weight.getName() + "_quantized");
        String wScale = graph.uniqueName(weight.getName() + "_scale");
        String wZero = graph.uniqueName(weight.getName() + "_zero_point");
        long[] paramDims = axis < 0 ? new long[0] : new long[] {columns};
        graph.addInitializer(Tensors.bytes(wq, type.onnxType, dims, q));
        graph.addInitializer(Tensors.floats(wScale, paramDims, scales));
        graph.addInitializer(Tensors.bytes(wZero, type.onnxType, paramDims, zeros));
        String aq = graph.uniqueName(a + "_quantized");
        String aScale = graph.uniqueName(a + "_scale");
        String aZero = graph.uniqueName(a + "_zero_point");
        String product = graph.uniqueName(output + "_int32");
        String productFloat = graph.uniqueName(output + "_int32_float");
        String scale = graph.uniqueName(name + "_scale");
        graph.addNode(NodeProto.newBuilder().setOpType("DynamicQuantizeLinear").setName(graph.uniqueName(name + "_quant"))
                .addInput(a).addOutput(aq).addOutput(aScale).addOutput(aZero).build());
        graph.addNode(NodeProto.newBuilder().setOpType("MatMulInteger").setName(graph.uniqueName(name + "_MatMulInteger"))
                .addInput(aq).addInput(wq).addInput(aZero).addInput(wZero).addOutput(product).build());
        graph.addNode(NodeProto.newBuilder().setOpType("Cast").setName(graph.uniqueName(name + "_cast"))
                .addInput(product).addOutput(productFloat)
                .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                        .setI(DataType.FLOAT_VALUE)).build());
        graph.addNode(NodeProto.newBuilder().setOpType("Mul").setName(graph.uniqueName(name + "_scales_mul"))
                .addInput(aScale).addInput(wScale).addOutput(scale).build());
        String bias = gemm && node.getInputCount() > 2 ? node.getInput(2) : "";
        if (bias.isEmpty()) {
            node.clearAttribute().clearInput().setOpType("Mul").addInput(productFloat).addInput(scale);
        } else {
            String scaled = graph.uniqueName(output + "_scaled");
            graph.addNode(NodeProto.newBuilder().setOpType("Mul").setName(graph.uniqueName(name + "_output_mul"))
                    .addInput(productFloat).addInput(scale).addOutput(scaled).build());
            node.clearAttribute().clearInput().setOpType("Add").addInput(scaled).addInput(bias);
        }
    }

    private static TensorProto transpose2d(TensorProto w, String name) {
        long[] dims = Tensors.dims(w);
        float[] v = Tensors.toFloats(w);
        int rows = (int) dims[0];
        int cols = (int) dims[1];
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[r * cols + c];
            }
        }
        return Tensors.floats(name, new long[] {cols, rows}, t);
    }
}
