package dev.anvil.modelkit.quantize;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rewrites a float ONNX model into an INT8 one.
 * <ul>
 *   <li><b>static</b>: QDQ format. Every quantised node's run-time inputs and its output pass through a
 *       QuantizeLinear/DequantizeLinear pair with calibrated scales; its weights are stored as 8-bit
 *       initializers behind a DequantizeLinear (per channel where asked); Conv and Gemm biases are stored
 *       as int32 with scale = input scale × weight scale. ONNX Runtime fuses these patterns into integer
 *       kernels (QLinearConv, QLinearMatMul, ...).</li>
 *   <li><b>dynamic</b>: weights stored as 8-bit; MatMul and Gemm run as DynamicQuantizeLinear →
 *       MatMulInteger → Cast → Mul, the pattern ONNX Runtime fuses into DynamicQuantizeMatMul, so
 *       activations are quantised at run time with their own per-batch range.</li>
 * </ul>
 * Gather over a float weight table (embeddings) is stored as 8-bit in both modes: the gather reads the
 * 8-bit table and a DequantizeLinear restores floats for the gathered rows only.
 *
 * <p>Nodes in sub-graphs ({@code If}, {@code Loop}, {@code Scan}), in non-standard domains, or not of
 * a supported type stay float and are reported with the reason.
 */
public final class ModelQuantizer {
    static final String DOMAIN_DEFAULT = "";

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
        long opset = model.opset(DOMAIN_DEFAULT).orElseThrow(() ->
                new InvalidModelException("the model imports no default-domain opset"));
        if (options.mode() == QuantizeOptions.Mode.STATIC && opset < 10) {
            throw new InvalidModelException("static (QDQ) quantisation needs opset 10 or later; the model has opset " + opset
                    + ". Convert it first: {operator: convert, with: {opset: 13}}");
        }
        if (options.mode() == QuantizeOptions.Mode.DYNAMIC && opset < 11) {
            throw new InvalidModelException("dynamic quantisation needs opset 11 or later (DynamicQuantizeLinear); the model"
                    + " has opset " + opset + ". Convert it first: {operator: convert, with: {opset: 13}}");
        }
        if (options.mode() == QuantizeOptions.Mode.STATIC && options.perChannel() && opset < 13) {
            throw new InvalidModelException("per-channel quantisation needs opset 13 or later (QuantizeLinear's axis);"
                    + " the model has opset " + opset + ". Convert it first: {operator: convert, with: {opset: 13}},"
                    + " or set per_channel: false");
        }
        OnnxGraph graph = model.graph();
        graph.liftConstants();
        graph.nameNodes();
        graph.topologicalOrder(); // a malformed graph fails here, naming the node
        Map<String, TensorProto> initializers = graph.initializers();
        List<QuantizationPlan.Target> targets = new ArrayList<>();
        List<QuantizationPlan.LeftFloat> left = new ArrayList<>();
        Set<String> activations = new LinkedHashSet<>();
        Set<String> outputs = new LinkedHashSet<>();
        boolean dynamic = options.mode() == QuantizeOptions.Mode.DYNAMIC;
        for (NodeProto node : graph.nodes()) {
            String op = node.getOpType();
            String domain = OnnxGraph.canonicalDomain(node.getDomain());
            if (graph.hasSubgraphs(node)) {
                int inner = countInner(node);
                left.add(new QuantizationPlan.LeftFloat(node.getName(), op, "holds sub-graphs; their " + inner
                        + " nodes stay float"));
                continue;
            }
            if (!domain.isEmpty()) {
                left.add(new QuantizationPlan.LeftFloat(node.getName(), op, "custom domain '" + domain + "' is left as is"));
                continue;
            }
            if (!options.opTypes().contains(op)) {
                if (QuantizeOptions.SUPPORTED_OP_TYPES.contains(op)) {
                    left.add(new QuantizationPlan.LeftFloat(node.getName(), op, "op type not selected"));
                }
                continue; // everything else (Relu, Reshape, ...) simply runs in float
            }
            if (options.excludeOpTypes().contains(op)) {
                left.add(new QuantizationPlan.LeftFloat(node.getName(), op, "excluded by op type"));
                continue;
            }
            if (options.excludeNodes().contains(node.getName())) {
                left.add(new QuantizationPlan.LeftFloat(node.getName(), op, "excluded by name"));
                continue;
            }
            Optional<String> why = switch (op) {
                case "Conv" -> dynamic ? Optional.of("dynamic mode leaves Conv in float (use static mode)")
                        : floatWeight(node, 1, initializers, "weight");
                case "Gemm" -> gemmProblem(node, initializers);
                case "MatMul" -> matMulProblem(node, initializers, dynamic);
                case "Gather" -> gatherProblem(node, initializers);
                default -> Optional.of("not supported");
            };
            if (why.isPresent()) {
                left.add(new QuantizationPlan.LeftFloat(node.getName(), op, why.get()));
                continue;
            }
            QuantizationPlan.Target target = target(node, initializers, dynamic);
            targets.add(target);
            if (!dynamic) {
                target.activationInputs().forEach(i -> activations.add(node.getInput(i)));
                if (target.quantizeOutput()) {
                    String output = outputToQuantize(graph, node);
                    activations.add(output);
                    outputs.add(output);
                }
            }
        }
        return new QuantizationPlan(targets, left, activations, outputs);
    }

    /**
     * The tensor whose Q/DQ pair follows a quantised node: its output, or, when the output's only reader
     * is a Relu, the Relu's output. A range of [0, max] there is more precise, and ONNX Runtime fuses the
     * Relu into the integer kernel.
     */
    private static String outputToQuantize(OnnxGraph graph, NodeProto node) {
        String output = node.getOutput(0);
        List<NodeProto> readers = graph.consumers(output);
        if (readers.size() == 1 && readers.get(0).getOpType().equals("Relu")
                && OnnxGraph.canonicalDomain(readers.get(0).getDomain()).isEmpty() && !graph.isGraphOutput(output)) {
            return readers.get(0).getOutput(0);
        }
        return output;
    }

    /** Tensors whose per-channel ranges calibration must keep for activation smoothing. */
    public static Set<String> smoothingCandidates(OnnxModel model, QuantizationPlan plan, QuantizeOptions options) {
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

    private static int countInner(NodeProto node) {
        int n = 0;
        for (AttributeProto a : node.getAttributeList()) {
            if (a.hasG()) {
                n += countAll(a.getG());
            }
            for (GraphProto g : a.getGraphsList()) {
                n += countAll(g);
            }
        }
        return n;
    }

    private static int countAll(GraphProto g) {
        int n = g.getNodeCount();
        for (NodeProto node : g.getNodeList()) {
            n += countInner(node);
        }
        return n;
    }

    private static Optional<String> floatWeight(NodeProto node, int index, Map<String, TensorProto> inits, String what) {
        if (node.getInputCount() <= index) {
            return Optional.of("has no " + what + " input");
        }
        TensorProto w = inits.get(node.getInput(index));
        if (w == null) {
            return Optional.of(what + " '" + node.getInput(index) + "' is computed at run time, not a constant");
        }
        if (!Tensors.isFloat(w)) {
            return Optional.of(what + " '" + w.getName() + "' is " + Tensors.type(w) + ", not float");
        }
        return Optional.empty();
    }

    private static Optional<String> gemmProblem(NodeProto node, Map<String, TensorProto> inits) {
        if (intAttr(node, "transA", 0) != 0) {
            return Optional.of("transA=1 is not supported");
        }
        if (floatAttr(node, "alpha", 1f) != 1f || (node.getInputCount() > 2 && floatAttr(node, "beta", 1f) != 1f)) {
            return Optional.of("alpha or beta other than 1 is not supported");
        }
        Optional<String> weight = floatWeight(node, 1, inits, "weight");
        if (weight.isPresent()) {
            return weight;
        }
        if (Tensors.dims(inits.get(node.getInput(1))).length != 2) {
            return Optional.of("weight is not 2-D");
        }
        if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
            TensorProto c = inits.get(node.getInput(2));
            if (c == null || !Tensors.isFloat(c)) {
                return Optional.of("bias '" + node.getInput(2) + "' is not a float constant");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> matMulProblem(NodeProto node, Map<String, TensorProto> inits, boolean dynamic) {
        TensorProto a = inits.get(node.getInput(0));
        TensorProto b = inits.get(node.getInput(1));
        if (a != null && b != null) {
            return Optional.of("both operands are constants (fold them instead)");
        }
        if (a != null) {
            return Optional.of("the constant is the first operand; only constant second operands are supported");
        }
        if (b == null) {
            // attention products (Q·Kᵀ, softmax·V): per-tensor 8-bit ranges over both operands cost more
            // precision than they save time, so they stay float in both modes
            return Optional.of("both operands are computed at run time (attention products stay float)");
        }
        if (!Tensors.isFloat(b)) {
            return Optional.of("weight '" + b.getName() + "' is " + Tensors.type(b) + ", not float");
        }
        if (dynamic && Tensors.dims(b).length != 2) {
            return Optional.of("weight is not 2-D");
        }
        return Optional.empty();
    }

    private static Optional<String> gatherProblem(NodeProto node, Map<String, TensorProto> inits) {
        TensorProto data = inits.get(node.getInput(0));
        if (data == null || !Tensors.isFloat(data)) {
            return Optional.of("gathers from a computed or non-float tensor, not a weight table");
        }
        return Optional.empty();
    }

    private static QuantizationPlan.Target target(NodeProto node, Map<String, TensorProto> inits, boolean dynamic) {
        String op = node.getOpType();
        return switch (op) {
            case "Conv" -> new QuantizationPlan.Target(node.getName(), op, List.of(0), 1, 0,
                    node.getInputCount() > 2 && !node.getInput(2).isEmpty() ? 2 : -1, true);
            case "Gemm" -> new QuantizationPlan.Target(node.getName(), op, List.of(0), 1,
                    intAttr(node, "transB", 0) != 0 ? 0 : 1,
                    node.getInputCount() > 2 && !node.getInput(2).isEmpty()
                            && Tensors.dims(inits.get(node.getInput(2))).length == 1 ? 2 : -1,
                    true);
            case "MatMul" -> {
                // no Q/DQ on the output: ONNX Runtime runs DQ → MatMul as an integer product with a float
                // result (MatMulIntegerToFloat), and the float output keeps the bias Add and residuals exact
                int rank = Tensors.dims(inits.get(node.getInput(1))).length;
                yield new QuantizationPlan.Target(node.getName(), op, List.of(0), 1, rank - 1, -1, false);
            }
            case "Gather" -> new QuantizationPlan.Target(node.getName(), op, List.of(), 0, -1, -1, false);
            default -> throw new IllegalStateException(op);
        };
    }

    // ---------------------------------------------------------------- static (QDQ)

    /** Applies a static plan with the ranges in {@code table}. */
    public static Summary applyStatic(OnnxModel model, QuantizationPlan plan, CalibrationTable table,
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
        Map<String, String> qdqTensor = new HashMap<>();
        int smoothed = 0;
        if (options.smoothAlpha() > 0) {
            for (String tensor : plan.activationTensors()) {
                Optional<String> smooth = smooth(graph, plan, tensor, table.tensors().get(tensor), options, activationParams);
                smooth.ifPresent(s -> qdqTensor.put(tensor, s));
                smoothed += smooth.isPresent() ? 1 : 0;
            }
        }
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
        return new Summary(plan, weights, activations, biases, left, smoothed);
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

    /** Gather reads an 8-bit table; a DequantizeLinear turns the gathered rows back into floats. */
    private static void quantizeGather(OnnxGraph graph, NodeProto.Builder gather, QuantizeOptions options) {
        TensorProto table = graph.initializer(gather.getInput(0)).orElseThrow();
        QuantType type = options.weightType();
        long[] dims = Tensors.dims(table);
        QuantizedWeights quantized = QuantizedWeights.of(Tensors.toFloats(table), dims, -1, type);
        String base = table.getName();
        String qName = graph.uniqueName(base + "_q");
        String scaleName = graph.uniqueName(base + "_s");
        String zeroName = graph.uniqueName(base + "_zp");
        graph.addInitializer(Tensors.bytes(qName, type.onnxType, dims, quantized.values()));
        graph.addInitializer(Tensors.floats(scaleName, new long[0], quantized.scales()));
        graph.addInitializer(Tensors.bytes(zeroName, type.onnxType, new long[0], quantized.zeros()));
        String output = gather.getOutput(0);
        String gathered = graph.uniqueName(output + "_quantized");
        gather.setInput(0, qName).setOutput(0, gathered);
        graph.addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(graph.uniqueName(gather.getName() + "_DequantizeLinear"))
                .addInput(gathered).addInput(scaleName).addInput(zeroName).addOutput(output).build());
    }

    // ---------------------------------------------------------------- dynamic

    /** Applies a dynamic plan: no calibration, activations quantised at run time. */
    public static Summary applyDynamic(OnnxModel model, QuantizationPlan plan, QuantizeOptions options) {
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
        return new Summary(plan, weights, 0, 0, plan.leftFloat(), 0);
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

    // ---------------------------------------------------------------- shared

    private static void finish(OnnxModel model, QuantizeOptions options) {
        OnnxGraph graph = model.graph();
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.quantization", options.mode().name().toLowerCase()
                + (options.mode() == QuantizeOptions.Mode.STATIC ? "/" + options.method().wireName() : "")
                + ", activations " + options.activationType().wireName() + ", weights " + options.weightType().wireName()
                + (options.perChannel() ? " per channel" : " per tensor"));
    }

    private static Map<String, NodeProto> nodesByName(OnnxGraph graph) {
        Map<String, NodeProto> byName = new HashMap<>();
        graph.nodes().forEach(n -> byName.put(n.getName(), n));
        return byName;
    }

    private static NodeProto.Builder nodeBuilder(OnnxGraph graph, String name) {
        for (NodeProto.Builder b : graph.proto().getNodeBuilderList()) {
            if (b.getName().equals(name)) {
                return b;
            }
        }
        throw new IllegalStateException("node '" + name + "' disappeared during the rewrite");
    }

    static long intAttr(NodeProto node, String name, long fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return fallback;
    }

    static float floatAttr(NodeProto node, String name, float fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getF();
            }
        }
        return fallback;
    }
}
