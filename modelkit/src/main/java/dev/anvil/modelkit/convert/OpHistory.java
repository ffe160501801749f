package dev.anvil.modelkit.convert;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The version history of the default-domain ONNX operators the converter knows, up to opset
 * {@link OpsetConverter#MAX_TARGET_OPSET}: for each operator, every opset at which its schema changed,
 * and for each change whether it keeps the meaning of existing nodes (new types, new attributes
 * whose default is the old behaviour, negative axes, ...), needs a rewrite ({@link Adapters}), or has
 * no rewrite here (the conversion stops with a message naming the operator and the version).
 *
 * <p>Sources: the ONNX operator changelog (docs/Changelog.md, docs/Operators.md), the schema
 * registrations per opset (onnx/defs/operator_sets.h) and the adapter registry of ONNX's own version
 * converter (onnx/version_converter/convert.h) for opsets up to 23; the ONNX 1.19 release notes for
 * opset 24 (float8e8m0 added to Cast, CastLike, Constant, ConstantOfShape, QuantizeLinear,
 * DequantizeLinear, Identity, Reshape, Shape, Size, If, Loop, Scan, Flatten, Pad, Squeeze, Unsqueeze,
 * Transpose; bfloat16 added to TopK and SplitToSequence; Attention changed). One deliberate
 * difference from ONNX's converter: Hardmax at 13 gets the same rewrite as Softmax, because its axis
 * meaning changed the same way (ONNX registers it as compatible).
 */
final class OpHistory {
    @FunctionalInterface
    interface Adapter {
        /** Rewrites the node for {@code version}; returns what it did, without naming the node. */
        String adapt(NodeRewrite rewrite, int version);
    }

    /** An operator's versions (the opsets where its schema changed) and what each change needs. */
    static final class Op {
        final String name;
        final int[] versions;
        final Map<Integer, Adapter> adapters = new HashMap<>();
        final Map<Integer, String> unsupported = new HashMap<>();

        Op(String name, int... versions) {
            this.name = name;
            this.versions = versions.clone();
            Arrays.sort(this.versions);
        }

        Op adapt(int version, Adapter adapter) {
            requireVersion(version);
            adapters.put(version, adapter);
            return this;
        }

        Op unsupported(int version, String change) {
            requireVersion(version);
            unsupported.put(version, change);
            return this;
        }

        private void requireVersion(int version) {
            if (Arrays.stream(versions).noneMatch(v -> v == version)) {
                throw new IllegalStateException(name + " has no version " + version);
            }
        }

        int introduced() {
            return versions[0];
        }

        /** The versions strictly after {@code from} and at most {@code to}, in order. */
        int[] crossed(long from, long to) {
            return Arrays.stream(versions).filter(v -> v > from && v <= to).toArray();
        }
    }

    private static final Map<String, Op> OPS = new LinkedHashMap<>();

    static {
        // element-wise unary
        ops(new int[] {1, 6, 13}, "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Sqrt", "Sigmoid", "Tanh", "Exp", "Log");
        op("Relu", 1, 6, 13, 14);
        op("Erf", 9, 13);
        op("Sign", 9, 13);
        op("Not", 1);
        op("IsNaN", 9, 13, 20);
        op("IsInf", 10, 20);
        op("Round", 11, 22);
        ops(new int[] {7, 22}, "Sin", "Cos", "Tan", "Asin", "Acos", "Atan");
        ops(new int[] {9, 22}, "Sinh", "Cosh", "Asinh", "Acosh", "Atanh");
        ops(new int[] {1, 6, 22}, "Elu", "Selu", "HardSigmoid");
        op("LeakyRelu", 1, 6, 16);
        op("HardSwish", 14, 22);
        ops(new int[] {1, 22}, "Softplus", "Softsign");
        op("ThresholdedRelu", 10, 22);
        op("Celu", 12);
        op("Mish", 18, 22);
        op("Gelu", 20);
        op("Shrink", 9);
        op("PRelu", 1, 6, 7, 9, 16);
        op("Clip", 1, 6, 11, 12, 13).adapt(11, Adapters::clip11);
        // element-wise binary and variadic
        ops(new int[] {1, 6, 7, 13, 14}, "Add", "Sub", "Mul", "Div");
        op("Pow", 1, 7, 12, 13, 15);
        op("Mod", 10, 13);
        ops(new int[] {1, 7}, "And", "Or", "Xor");
        op("Equal", 1, 7, 11, 13, 19);
        ops(new int[] {1, 7, 9, 13}, "Greater", "Less");
        ops(new int[] {12, 16}, "GreaterOrEqual", "LessOrEqual");
        op("BitShift", 11);
        ops(new int[] {1, 6, 8, 12, 13}, "Max", "Min");
        ops(new int[] {1, 6, 8, 13}, "Sum", "Mean");
        op("Where", 9, 16);
        // neural-network layers
        op("Conv", 1, 11, 22);
        op("ConvTranspose", 1, 11, 22);
        op("MaxPool", 1, 8, 10, 11, 12, 22);
        op("AveragePool", 1, 7, 10, 11, 19, 22);
        ops(new int[] {1, 22}, "GlobalAveragePool", "GlobalMaxPool", "LpNormalization");
        op("LpPool", 1, 2, 11, 18, 22);
        op("GlobalLpPool", 1, 2, 22);
        op("BatchNormalization", 1, 6, 7, 9, 14, 15)
                .adapt(9, Adapters::batchNorm9)
                .adapt(14, Adapters::batchNorm14);
        op("InstanceNormalization", 1, 6, 22);
        op("LRN", 1, 13);
        op("LayerNormalization", 17);
        op("GroupNormalization", 18, 21)
                .unsupported(21, "scale and bias changed from one value per group to one per channel");
        op("MeanVarianceNormalization", 9, 13);
        op("Dropout", 1, 6, 7, 10, 12, 13, 22)
                .adapt(10, Adapters::dropout10)
                .adapt(12, Adapters::dropout12);
        op("Gemm", 1, 6, 7, 9, 11, 13);
        op("MatMul", 1, 9, 13);
        op("Einsum", 12);
        ops(new int[] {10}, "MatMulInteger", "ConvInteger", "QLinearConv");
        op("QLinearMatMul", 10, 21);
        ops(new int[] {10, 13, 19, 21, 23, 24}, "QuantizeLinear", "DequantizeLinear");
        op("DynamicQuantizeLinear", 11);
        ops(new int[] {1, 11, 13}, "Softmax", "LogSoftmax", "Hardmax");
        for (String name : new String[] {"Softmax", "LogSoftmax", "Hardmax"}) {
            OPS.get(name).adapt(13, Adapters::softmax13);
        }
        op("RNN", 1, 7, 14, 22);
        op("GRU", 1, 3, 7, 14, 22);
        op("LSTM", 1, 7, 14, 22);
        // tensor manipulation
        op("Reshape", 1, 5, 13, 14, 19, 21, 23, 24);
        op("Flatten", 1, 9, 11, 13, 21, 23, 24);
        ops(new int[] {1, 11, 13, 21, 23, 24}, "Squeeze", "Unsqueeze");
        OPS.get("Squeeze").adapt(13, Adapters::axesToInput);
        OPS.get("Unsqueeze").adapt(13, Adapters::axesToInput);
        op("Transpose", 1, 13, 21, 23, 24);
        op("Concat", 1, 4, 11, 13);
        op("Split", 1, 2, 11, 13, 18).adapt(13, Adapters::split13).adapt(18, Adapters::split18);
        op("Slice", 1, 10, 11, 13).adapt(10, Adapters::slice10);
        op("Gather", 1, 11, 13);
        op("GatherElements", 11, 13);
        op("GatherND", 11, 12, 13);
        ops(new int[] {11, 13, 16, 18}, "ScatterElements", "ScatterND");
        op("Scatter", 9, 11).adapt(11, Adapters::scatterToScatterElements11);
        op("Expand", 8, 13);
        op("Tile", 1, 6, 13);
        op("Pad", 1, 2, 11, 13, 18, 19, 21, 23, 24).adapt(11, Adapters::pad11);
        op("Shape", 1, 13, 15, 19, 21, 23, 24);
        op("Size", 1, 13, 19, 21, 23, 24);
        op("Identity", 1, 13, 14, 16, 19, 21, 23, 24);
        op("Cast", 1, 6, 9, 13, 19, 21, 23, 24);
        op("CastLike", 15, 19, 21, 23, 24);
        op("Constant", 1, 9, 11, 12, 13, 19, 21, 23, 24);
        op("ConstantOfShape", 9, 20, 21, 23, 24);
        op("Range", 11);
        op("OneHot", 9, 11);
        op("NonZero", 9, 13);
        op("TopK", 1, 10, 11, 24).adapt(10, Adapters::topK10);
        ops(new int[] {1, 11, 12, 13}, "ArgMax", "ArgMin");
        op("CumSum", 11, 14);
        op("Trilu", 14);
        op("DepthToSpace", 1, 11, 13);
        op("SpaceToDepth", 1, 13);
        op("Compress", 9, 11);
        op("EyeLike", 9, 22);
        op("ReverseSequence", 10);
        op("Unique", 11);
        // reductions
        op("ReduceSum", 1, 11, 13).adapt(13, Adapters::axesToInput);
        for (String name : new String[] {"ReduceMean", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                "ReduceLogSumExp", "ReduceSumSquare"}) {
            op(name, 1, 11, 13, 18).adapt(18, Adapters::axesToInput);
        }
        ops(new int[] {1, 11, 12, 13, 18, 20}, "ReduceMax", "ReduceMin");
        OPS.get("ReduceMax").adapt(18, Adapters::axesToInput);
        OPS.get("ReduceMin").adapt(18, Adapters::axesToInput);
        // resampling
        op("Resize", 10, 11, 13, 18, 19).adapt(11, Adapters::resize11);
        op("Upsample", 7, 9, 10).adapt(9, Adapters::upsample9).adapt(10, Adapters::upsampleToResize10);
        op("GridSample", 16, 20, 22)
                .unsupported(20, "its mode values were renamed (bilinear -> linear, bicubic -> cubic) and N-D grids added");
        op("RoiAlign", 10, 16, 22).adapt(16, Adapters::roiAlign16);
        op("NonMaxSuppression", 10, 11);
        // control flow: their sub-graphs are converted node by node
        ops(new int[] {1, 11, 13, 16, 19, 21, 23, 24}, "If", "Loop");
        op("Scan", 8, 9, 11, 16, 19, 21, 23, 24)
                .unsupported(9, "Scan-9 dropped the batch axis and added per-input scan directions");
    }

    private OpHistory() {}

    private static Op op(String name, int... versions) {
        Op op = new Op(name, versions);
        if (OPS.put(name, op) != null) {
            throw new IllegalStateException("operator " + name + " listed twice");
        }
        return op;
    }

    private static void ops(int[] versions, String... names) {
        for (String name : names) {
            op(name, versions);
        }
    }

    static Optional<Op> find(String opType) {
        return Optional.ofNullable(OPS.get(opType));
    }

    /** The operators with a rewrite, as "Op@version" (for documentation and reports). */
    static Set<String> adapted() {
        Set<String> names = new TreeSet<>();
        OPS.values().forEach(op -> op.adapters.keySet().forEach(v -> names.add(op.name + "@" + v)));
        return names;
    }

    static Set<String> known() {
        return new TreeSet<>(OPS.keySet());
    }
}
