package dev.anvil.modelkit.quantize;

import static dev.anvil.modelkit.quantize.GraphRewrites.floatAttr;
import static dev.anvil.modelkit.quantize.GraphRewrites.intAttr;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides which nodes a quantisation rewrites and how, and which stay float and why: nodes in sub-graphs
 * ({@code If}, {@code Loop}, {@code Scan}), in non-standard domains, or not of a supported type stay float
 * and are reported with the reason.
 */
final class QuantizationPlanner {
    private static final String DOMAIN_DEFAULT = "";

    private QuantizationPlanner() {}

    /**
     * Lifts {@code Constant} weights into initializers and names unnamed nodes (both in place) so the plan
     * can refer to them.
     *
     * @throws InvalidModelException when the model's opset cannot carry the requested quantisation
     */
    static QuantizationPlan plan(OnnxModel model, QuantizeOptions options) {
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
}
