package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Function;

/**
 * Output ranks of common default-domain operators from their input ranks and constant inputs, for the
 * tensors ONNX Runtime's inference leaves without a shape (typically everything after a Reshape whose
 * target shape is computed, as in transformer exports). Only rules that hold whatever the dimension
 * values are; anything else stays unknown.
 */
final class RankRules {
    /** Operators whose outputs have the rank of their first input. */
    private static final Set<String> SAME_AS_FIRST = Set.of("Relu", "Sigmoid", "Tanh", "Exp", "Log", "Neg", "Abs", "Sqrt",
            "Erf", "Cast", "CastLike", "Identity", "Dropout", "Clip", "LeakyRelu", "Elu", "Selu", "Softmax", "LogSoftmax",
            "Hardmax", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization", "Gelu",
            "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Not",
            "IsNaN", "IsInf", "CumSum", "Trilu", "LRN", "PRelu", "Transpose", "Pad", "Resize", "Upsample", "Conv",
            "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "GlobalLpPool",
            "DepthToSpace", "SpaceToDepth", "Tile", "ScatterElements", "ScatterND", "Scatter", "Slice", "Split",
            "Concat", "Mish", "Shrink", "ThresholdedRelu", "Celu", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh",
            "Cosh", "Asinh", "Acosh", "Atanh", "LpNormalization", "MeanVarianceNormalization", "TopK", "GatherElements",
            "ReverseSequence");
    /** Multidirectional broadcasting: the output has the largest input rank. */
    private static final Set<String> BROADCAST = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Mod", "Equal", "Less",
            "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Max", "Min", "Sum", "Mean", "Where",
            "BitShift");
    private static final Set<String> REDUCE = Set.of("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
            "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin");

    private RankRules() {}

    /**
     * @param rank known ranks (0 included for known scalars)
     * @param constant the values of constant integer inputs (initializers, Constant outputs)
     * @param dims the static dimensions of 1-D tensors, when known (a computed shape's length)
     */
    static OptionalInt infer(NodeProto node, Function<String, OptionalInt> rank, Function<String, Optional<long[]>> constant,
            Function<String, Optional<long[]>> dims) {
        String op = node.getOpType();
        if (node.getInputCount() == 0) {
            return OptionalInt.empty();
        }
        OptionalInt first = rank.apply(node.getInput(0));
        if (SAME_AS_FIRST.contains(op)) {
            return first;
        }
        if (BROADCAST.contains(op)) {
            int max = 0;
            for (String in : node.getInputList()) {
                OptionalInt r = rank.apply(in);
                if (r.isEmpty()) {
                    return OptionalInt.empty();
                }
                max = Math.max(max, r.getAsInt());
            }
            return OptionalInt.of(max);
        }
        switch (op) {
            case "Gemm", "Flatten", "NonZero" -> {
                return OptionalInt.of(2);
            }
            case "Shape" -> {
                return OptionalInt.of(1);
            }
            case "Size" -> {
                return OptionalInt.of(0);
            }
            case "MatMul" -> {
                OptionalInt b = node.getInputCount() > 1 ? rank.apply(node.getInput(1)) : OptionalInt.empty();
                if (first.isEmpty() || b.isEmpty()) {
                    return OptionalInt.empty();
                }
                int ra = first.getAsInt();
                int rb = b.getAsInt();
                if (ra == 1 && rb == 1) {
                    return OptionalInt.of(0);
                }
                return OptionalInt.of(ra == 1 ? rb - 1 : rb == 1 ? ra - 1 : Math.max(ra, rb));
            }
            case "Gather" -> {
                OptionalInt idx = node.getInputCount() > 1 ? rank.apply(node.getInput(1)) : OptionalInt.empty();
                return first.isPresent() && idx.isPresent() ? OptionalInt.of(first.getAsInt() - 1 + idx.getAsInt())
                        : OptionalInt.empty();
            }
            case "Reshape", "ConstantOfShape" -> {
                String shape = op.equals("Reshape") ? input(node, 1) : node.getInput(0);
                return length(shape, constant, dims);
            }
            case "Expand" -> {
                OptionalInt target = length(input(node, 1), constant, dims);
                return first.isPresent() && target.isPresent()
                        ? OptionalInt.of(Math.max(first.getAsInt(), target.getAsInt())) : OptionalInt.empty();
            }
            case "Unsqueeze", "Squeeze" -> {
                Optional<long[]> axes = axes(node, constant);
                if (first.isEmpty() || axes.isEmpty()) {
                    return OptionalInt.empty();
                }
                int n = (int) Arrays.stream(axes.get()).distinct().count();
                return OptionalInt.of(op.equals("Unsqueeze") ? first.getAsInt() + n : first.getAsInt() - n);
            }
            default -> {
                if (REDUCE.contains(op)) {
                    long keepdims = Attrs.getInt(node, "keepdims").orElse(1L);
                    if (keepdims != 0 || first.isEmpty()) {
                        return first;
                    }
                    if (op.startsWith("Arg")) {
                        return OptionalInt.of(first.getAsInt() - 1);
                    }
                    Optional<long[]> axes = axes(node, constant);
                    return axes.map(a -> OptionalInt.of(first.getAsInt() - (int) Arrays.stream(a).distinct().count()))
                            .orElse(OptionalInt.empty());
                }
                return OptionalInt.empty();
            }
        }
    }

    private static String input(NodeProto node, int index) {
        return node.getInputCount() > index ? node.getInput(index) : "";
    }

    /** The number of elements of a 1-D shape tensor: from its constant value or its static dimension. */
    private static OptionalInt length(String tensor, Function<String, Optional<long[]>> constant,
            Function<String, Optional<long[]>> dims) {
        if (tensor.isEmpty()) {
            return OptionalInt.empty();
        }
        Optional<long[]> value = constant.apply(tensor);
        if (value.isPresent()) {
            return OptionalInt.of(value.get().length);
        }
        Optional<long[]> d = dims.apply(tensor);
        return d.isPresent() && d.get().length == 1 && d.get()[0] >= 0 ? OptionalInt.of((int) d.get()[0]) : OptionalInt.empty();
    }

    /** Axes from the attribute (older opsets) or the constant second input (newer). */
    private static Optional<long[]> axes(NodeProto node, Function<String, Optional<long[]>> constant) {
        Optional<long[]> attr = Attrs.getInts(node, "axes");
        if (attr.isPresent()) {
            return attr;
        }
        String in = input(node, 1);
        return in.isEmpty() ? Optional.empty() : constant.apply(in);
    }
}
