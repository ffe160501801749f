package dev.anvil.modelkit.compile;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.lite.schema.ActivationFunctionType;
import org.tensorflow.lite.schema.AddOptionsT;
import org.tensorflow.lite.schema.BufferT;
import org.tensorflow.lite.schema.BuiltinOperator;
import org.tensorflow.lite.schema.BuiltinOptions;
import org.tensorflow.lite.schema.BuiltinOptionsUnion;
import org.tensorflow.lite.schema.ConcatenationOptionsT;
import org.tensorflow.lite.schema.Conv2DOptionsT;
import org.tensorflow.lite.schema.DepthwiseConv2DOptionsT;
import org.tensorflow.lite.schema.DequantizeOptionsT;
import org.tensorflow.lite.schema.DivOptionsT;
import org.tensorflow.lite.schema.FullyConnectedOptionsT;
import org.tensorflow.lite.schema.LeakyReluOptionsT;
import org.tensorflow.lite.schema.LogSoftmaxOptionsT;
import org.tensorflow.lite.schema.ModelT;
import org.tensorflow.lite.schema.MulOptionsT;
import org.tensorflow.lite.schema.OperatorCodeT;
import org.tensorflow.lite.schema.OperatorT;
import org.tensorflow.lite.schema.PadOptionsT;
import org.tensorflow.lite.schema.Padding;
import org.tensorflow.lite.schema.Pool2DOptionsT;
import org.tensorflow.lite.schema.ReducerOptionsT;
import org.tensorflow.lite.schema.ReshapeOptionsT;
import org.tensorflow.lite.schema.SoftmaxOptionsT;
import org.tensorflow.lite.schema.SubGraphT;
import org.tensorflow.lite.schema.SubOptionsT;
import org.tensorflow.lite.schema.TensorT;
import org.tensorflow.lite.schema.TensorType;
import org.tensorflow.lite.schema.TransposeOptionsT;

/**
 * ONNX → TFLite flatbuffer, float32 (optionally float16 weights), written with the TFLite schema's generated
 * object API.
 *
 * <p><b>Layout.</b> ONNX is NCHW, TFLite's spatial kernels are NHWC. Every rank-4 activation that a spatial op
 * produces is kept NHWC inside the TFLite graph; weights are transposed at conversion time. A TRANSPOSE is
 * inserted only where a graph input or output needs one: the .tflite takes its inputs in the ONNX layout (NCHW,
 * e.g. {@code [1,1,28,28]} for cnn_mnist) and gives its outputs in the ONNX layout, so the same tensors feed both
 * models. Flatten/Reshape of an NHWC tensor into a fully-connected layer permutes the layer's weight columns
 * instead of transposing the activation. Elsewhere (a Reshape/Squeeze of an NHWC tensor with H·W &gt; 1 that does
 * not feed a fully-connected layer) a TRANSPOSE back to NCHW is inserted, and said so in {@link Result#notes()}.
 *
 * <p><b>Batch.</b> The batch dimension is written as 1 in {@code shape} and, when the ONNX input declares it
 * symbolic, as -1 in {@code shape_signature}: the interpreter can be resized to any batch.
 *
 * <p>An op it cannot convert is refused by {@link #convert} ({@link #unsupportedNodes}) before any work, listing
 * op types and node names.
 */
public final class TfliteConverter {
    /**
     * Precision of the written model: float32; float16 weights (DEQUANTIZEd at load); or full-integer int8 from a
     * calibration table ({@link #convertInt8}, rewritten by {@link TfliteInt8Quantizer}; float inputs and outputs).
     */
    public enum Precision {
        FLOAT32, FLOAT16, INT8
    }

    /**
     * The type of an INT8 model's inputs and outputs (TFLite's {@code inference_input_type} /
     * {@code inference_output_type}): float32 (a QUANTIZE after each input, a DEQUANTIZE before each output) or int8
     * (the caller quantises with {@link IoTensor#scale()} and {@link IoTensor#zeroPoint()}).
     */
    public enum Io {
        FLOAT32, INT8
    }

    /**
     * An input or output of the written model: its name, TFLite type ({@code float32}, {@code int8}) and, for int8,
     * the parameters a caller quantises with ({@code q = round(x / scale) + zero_point}) and dequantises with
     * ({@code x = (q - zero_point) * scale}); null for float32.
     */
    public record IoTensor(String role, String name, String type, int[] shape, Float scale, Long zeroPoint) {}

    /** The converted model and what the conversion did. */
    public record Result(byte[] flatbuffer, Map<String, Integer> tfliteOps, List<String> notes, boolean dynamicBatch,
            List<IoTensor> io) {}

    /** ONNX op types this converter takes (default domain). */
    public static final Set<String> SUPPORTED = Set.of("Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool",
            "Gemm", "MatMul", "Reshape", "Flatten", "Softmax", "LogSoftmax", "Add", "Sub", "Mul", "Div", "Clip", "Sigmoid", "Tanh",
            "LeakyRelu", "HardSwish", "Concat", "Squeeze", "Unsqueeze", "Transpose", "Pad", "BatchNormalization",
            "Identity", "Dropout", "Constant");

    private static final int[] TO_NHWC = {0, 2, 3, 1};
    private static final int[] TO_NCHW = {0, 3, 1, 2};

    /** A value of the ONNX graph as it stands in the TFLite graph. */
    private static final class Val {
        final String name;
        int tensor = -1; // TFLite tensor index, -1 while only a constant
        float[] constant; // float constants (weights)
        long[] longs; // integer constants (shapes, axes)
        int[] shape; // the ONNX (logical) shape, batch resolved to 1
        boolean nhwc; // the TFLite tensor holds the NHWC permutation of the logical rank-4 shape
        boolean dynamicBatch;
        Val nhwcCopy;
        Val plainCopy;

        Val(String name) {
            this.name = name;
        }

        boolean isConst() {
            return constant != null || longs != null;
        }
    }

    private final OnnxModel model;
    private final Precision precision;
    private final long opset;
    private final Map<String, Val> vals = new HashMap<>();
    private final List<TensorT> tensors = new ArrayList<>();
    private final List<BufferT> buffers = new ArrayList<>();
    private final List<OperatorT> operators = new ArrayList<>();
    private final List<OperatorCodeT> opcodes = new ArrayList<>();
    private final Map<Integer, Integer> opcodeIndex = new HashMap<>();
    private final Map<String, Integer> opCounts = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, Integer> consumerCount = new HashMap<>();
    /** BatchNormalization nodes folded into the Conv producing their input: conv output → (scale, shift). */
    private final Map<String, float[][]> foldedBn = new HashMap<>();
    private final Map<String, String> aliases = new HashMap<>();

    /** INT8 only: activation ranges by tensor name (a calibration table's). */
    private final Map<String, dev.anvil.modelkit.quantize.CalibrationTable.Range> ranges;
    /** Folded BatchNormalization: the Conv's output → the BatchNormalization's output, whose range INT8 needs. */
    private final Map<String, String> foldedBnOutput = new HashMap<>();
    /** Whether an input of the node being converted has a free batch (its outputs then have one too). */
    private boolean nodeDynamicBatch;
    /** INT8 only: the type of the inputs and outputs. */
    private Io io = Io.FLOAT32;

    private TfliteConverter(OnnxModel model, Precision precision,
            Map<String, dev.anvil.modelkit.quantize.CalibrationTable.Range> ranges) {
        this.model = model;
        this.precision = precision;
        this.ranges = ranges;
        this.opset = model.opset("").orElse(13L);
    }

    /**
     * Every node this converter cannot take, as {@code OpType 'name' (reason)}; empty when it can convert the
     * model. Cheap: no weights are read.
     */
    public static List<String> unsupportedNodes(OnnxModel model) {
        return unsupportedNodes(model, Precision.FLOAT32);
    }

    /** ONNX ops the converter takes in float but not for a full-integer (int8) model. */
    public static final Set<String> FLOAT_ONLY = Set.of("Div");

    /** As {@link #unsupportedNodes(OnnxModel)}, with what INT8 adds: ops without an int8 rule, unfoldable BatchNormalization. */
    public static List<String> unsupportedNodes(OnnxModel model, Precision precision) {
        List<String> out = unsupportedFloat(model);
        if (precision != Precision.INT8) {
            return out;
        }
        int i = 0;
        for (NodeProto n : model.graph().nodes()) {
            String name = n.getName().isEmpty() ? "#" + i : n.getName();
            i++;
            if (FLOAT_ONLY.contains(n.getOpType())) {
                out.add(n.getOpType() + " '" + name + "' (no int8 kernel; compile in float32 or float16)");
            }
            if (n.getOpType().equals("BatchNormalization")) {
                String in = n.getInput(0);
                boolean folds = model.graph().producer(in).map(p -> p.getOpType().equals("Conv")).orElse(false)
                        && model.graph().consumers(in).size() == 1
                        && model.graph().proto().getOutputList().stream().noneMatch(o -> o.getName().equals(in));
                if (!folds) {
                    out.add("BatchNormalization '" + name + "' (not after a Conv it can be folded into; int8 needs it"
                            + " folded)");
                }
            }
        }
        return out;
    }

    /** ONNX ops whose output range the INT8 writer reads from the calibration table (directly or through a fusion). */
    private static final Set<String> RANGED_OUTPUTS = Set.of("Conv", "Gemm", "MatMul", "BatchNormalization", "Relu",
            "Clip", "LeakyRelu", "HardSwish", "Add", "Sub", "Mul");

    /**
     * The tensors whose ranges a full-integer (INT8) compile of this model reads from a calibration table, by their
     * ONNX names: the graph's float inputs and the outputs of Conv, Gemm, MatMul, BatchNormalization (folded into the
     * Conv, its output is the BatchNormalization's), Relu, Clip, LeakyRelu, HardSwish, Add, Sub and Mul (ops computed
     * from constants alone are left out). Other ops take fixed parameters or their input's. Empty when the model cannot
     * be compiled to INT8 at all ({@link #unsupportedNodes(OnnxModel, Precision)}), so calibrating another model
     * measures nothing more. Cheap: no weights are read.
     */
    public static Set<String> int8RangeTensors(OnnxModel model) {
        if (!unsupportedNodes(model, Precision.INT8).isEmpty()) {
            return Set.of();
        }
        Set<String> constants = new java.util.HashSet<>(model.graph().initializers().keySet());
        Set<String> out = new java.util.LinkedHashSet<>();
        for (ValueInfoProto in : model.graph().proto().getInputList()) {
            if (!constants.contains(in.getName())) {
                out.add(in.getName());
            }
        }
        for (NodeProto n : model.graph().topologicalOrder()) {
            boolean allConstant = n.getInputList().stream().allMatch(i -> i.isEmpty() || constants.contains(i));
            if (n.getOpType().equals("Constant") || allConstant) {
                n.getOutputList().forEach(constants::add);
                continue;
            }
            if (RANGED_OUTPUTS.contains(n.getOpType())) {
                out.add(n.getOutput(0));
            }
        }
        return out;
    }

    private static List<String> unsupportedFloat(OnnxModel model) {
        List<String> out = new ArrayList<>();
        int i = 0;
        for (NodeProto n : model.graph().nodes()) {
            String name = n.getName().isEmpty() ? "#" + i : n.getName();
            i++;
            String domain = n.getDomain();
            if (!domain.isEmpty() && !domain.equals("ai.onnx")) {
                out.add(n.getOpType() + " '" + name + "' (domain " + domain + ")");
                continue;
            }
            if (!SUPPORTED.contains(n.getOpType())) {
                boolean control = n.getOpType().equals("If") || n.getOpType().equals("Loop")
                        || n.getOpType().equals("Scan");
                out.add(n.getOpType() + " '" + name + "'" + (control ? " (control flow)" : ""));
                continue;
            }
            if (n.getOpType().equals("Conv") && intAttr(n, "group", 1) != 1) {
                // depthwise (group == input channels) is checked with shapes at conversion; other groups are not
                // taken: the weight's input-channel dimension tells which
                long group = intAttr(n, "group", 1);
                TensorProto w = model.graph().initializer(n.getInput(1)).orElse(null);
                if (w == null || Tensors.dims(w)[1] != 1) {
                    out.add("Conv '" + name + "' (grouped convolution with group " + group
                            + " that is not depthwise)");
                }
            }
            if ((n.getOpType().equals("MaxPool") || n.getOpType().equals("AveragePool"))
                    && intAttr(n, "ceil_mode", 0) != 0) {
                out.add(n.getOpType() + " '" + name + "' (ceil_mode=1)");
            }
            if (n.getOpType().equals("Gemm") && intAttr(n, "transA", 0) != 0) {
                out.add("Gemm '" + name + "' (transA=1)");
            }
            if ((n.getOpType().equals("Gemm") || n.getOpType().equals("Conv"))
                    && model.graph().initializer(n.getInput(1)).isEmpty() && !producedByConstant(model, n.getInput(1))) {
                out.add(n.getOpType() + " '" + name + "' (weights are not a constant)");
            }
        }
        for (ValueInfoProto in : model.graph().proto().getInputList()) {
            if (model.graph().initializer(in.getName()).isPresent()) {
                continue;
            }
            if (in.getType().getTensorType().getElemType() != TensorProto.DataType.FLOAT_VALUE) {
                out.add("input '" + in.getName() + "' (not float32)");
            }
        }
        return out;
    }

    private static boolean producedByConstant(OnnxModel model, String tensor) {
        return model.graph().producer(tensor).map(p -> p.getOpType().equals("Constant")).orElse(false);
    }

    /** Converts, or throws {@link UnsupportedModelException} before any work when a node cannot be taken. */
    public static Result convert(OnnxModel model, Precision precision) {
        if (precision == Precision.INT8) {
            throw new IllegalArgumentException("int8 needs a calibration table: use convertInt8");
        }
        refuseUnsupported(model, precision);
        return new TfliteConverter(model, precision, Map.of()).run();
    }

    /**
     * Full-integer INT8 from a calibration table (the quantize operator's, measured on this model): refuses unsupported
     * nodes before any work, and a table that lacks a range the model needs (tensor names that do not match: a table
     * of another model) naming every missing tensor.
     */
    public static Result convertInt8(OnnxModel model, dev.anvil.modelkit.quantize.CalibrationTable table) {
        return convertInt8(model, table, Io.FLOAT32);
    }

    /** As {@link #convertInt8(OnnxModel, dev.anvil.modelkit.quantize.CalibrationTable)}, with int8 or float32 I/O. */
    public static Result convertInt8(OnnxModel model, dev.anvil.modelkit.quantize.CalibrationTable table, Io io) {
        refuseUnsupported(model, Precision.INT8);
        TfliteConverter c = new TfliteConverter(model, Precision.INT8, table.tensors());
        c.io = io;
        return c.run();
    }

    /**
     * Throws {@link UnsupportedModelException} listing every node the converter cannot take at this precision; cheap
     * (no weights read), so callers refuse a model before fetching anything else.
     */
    public static void refuseUnsupported(OnnxModel model, Precision precision) {
        List<String> refused = unsupportedNodes(model, precision);
        if (!refused.isEmpty()) {
            throw new UnsupportedModelException("the model cannot be compiled to TFLite " + precision.name().toLowerCase()
                    + ": " + refused.size() + " node(s) the converter does not take: " + String.join(", ", refused)
                    + ". Supported ONNX ops: " + String.join(", ", new java.util.TreeSet<>(SUPPORTED)), refused);
        }
    }

    private Result run() {
        buffers.add(new BufferT()); // buffer 0: the empty sentinel every tensor without data points at
        for (TensorProto init : model.graph().initializers().values()) {
            Val v = new Val(init.getName());
            v.shape = toInts(Tensors.dims(init));
            if (Tensors.isFloat(init) || init.getDataType() == TensorProto.DataType.FLOAT16_VALUE
                    || init.getDataType() == TensorProto.DataType.DOUBLE_VALUE) {
                v.constant = Tensors.toFloats(init);
            } else {
                v.longs = Tensors.toLongs(init);
            }
            vals.put(v.name, v);
        }
        List<Integer> inputs = new ArrayList<>();
        boolean dynamic = false;
        for (ValueInfoProto in : model.graph().proto().getInputList()) {
            if (vals.containsKey(in.getName())) {
                continue;
            }
            Val v = new Val(in.getName());
            List<TensorShapeProto.Dimension> dims = in.getType().getTensorType().getShape().getDimList();
            v.shape = new int[dims.size()];
            for (int d = 0; d < dims.size(); d++) {
                TensorShapeProto.Dimension dim = dims.get(d);
                if (dim.hasDimValue() && dim.getDimValue() > 0) {
                    v.shape[d] = (int) dim.getDimValue();
                } else if (d == 0) {
                    v.shape[d] = 1;
                    v.dynamicBatch = true;
                    dynamic = true;
                } else {
                    throw new UnsupportedModelException("input '" + in.getName() + "' has a symbolic dimension "
                            + d + "; TFLite compilation needs every dimension but the batch fixed",
                            List.of("input '" + in.getName() + "'"));
                }
            }
            v.tensor = addTensor(v.name, v.shape, TensorType.FLOAT32, 0, v.dynamicBatch);
            vals.put(v.name, v);
            inputs.add(v.tensor);
        }
        for (NodeProto n : model.graph().nodes()) {
            for (String in : n.getInputList()) {
                consumerCount.merge(in, 1, Integer::sum);
            }
        }
        planBatchNormFolding();
        for (NodeProto n : model.graph().topologicalOrder()) {
            convertNode(n);
        }
        List<Integer> outputs = new ArrayList<>();
        for (ValueInfoProto out : model.graph().proto().getOutputList()) {
            Val v = val(out.getName());
            Val plain = plain(v);
            if (plain.isConst()) {
                materialise(plain);
            }
            // the output tensor carries the ONNX name
            TensorT t = tensors.get(plain.tensor);
            if (!t.getName().equals(out.getName()) && !isInput(inputs, plain.tensor)) {
                t.setName(out.getName());
            }
            if (dynamic && t.getShape().length > 0) {
                int[] sig = t.getShape().clone();
                sig[0] = -1;
                t.setShapeSignature(sig);
            }
            outputs.add(plain.tensor);
        }
        if (precision == Precision.INT8) {
            notes.addAll(new TfliteInt8Quantizer(tensors, buffers, operators, opcodes, inputs, outputs, ranges,
                    this::opcode, io == Io.INT8).run());
            opCounts.clear();
            for (OperatorT op : operators) {
                opCounts.merge(BuiltinOperator.name(opcodes.get((int) op.getOpcodeIndex()).getBuiltinCode()), 1,
                        Integer::sum);
            }
        }
        SubGraphT sg = new SubGraphT();
        sg.setName("main");
        sg.setTensors(tensors.toArray(TensorT[]::new));
        sg.setInputs(inputs.stream().mapToInt(Integer::intValue).toArray());
        sg.setOutputs(outputs.stream().mapToInt(Integer::intValue).toArray());
        sg.setOperators(operators.toArray(OperatorT[]::new));
        ModelT m = new ModelT();
        m.setVersion(3);
        m.setDescription("Anvil ONNX->TFLite (" + precision.name().toLowerCase() + ")");
        m.setOperatorCodes(opcodes.toArray(OperatorCodeT[]::new));
        m.setSubgraphs(new SubGraphT[] {sg});
        m.setBuffers(buffers.toArray(BufferT[]::new));
        List<IoTensor> ioTensors = new ArrayList<>();
        for (int t : inputs) {
            ioTensors.add(ioTensor("input", tensors.get(t)));
        }
        for (int t : outputs) {
            ioTensors.add(ioTensor("output", tensors.get(t)));
        }
        return new Result(TflitePacker.pack(m), java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(opCounts)),
                List.copyOf(notes), dynamic, List.copyOf(ioTensors));
    }

    private static IoTensor ioTensor(String role, TensorT t) {
        boolean int8 = t.getType() == TensorType.INT8;
        return new IoTensor(role, t.getName(), int8 ? "int8" : "float32", t.getShape().clone(),
                int8 ? t.getQuantization().getScale()[0] : null, int8 ? t.getQuantization().getZeroPoint()[0] : null);
    }

    private static boolean isInput(List<Integer> inputs, int tensor) {
        return inputs.contains(tensor);
    }

    // ---- BatchNormalization folding -------------------------------------------------------------------------

    private void planBatchNormFolding() {
        Map<String, NodeProto> convByOutput = new HashMap<>();
        for (NodeProto n : model.graph().nodes()) {
            if (n.getOpType().equals("Conv")) {
                convByOutput.put(n.getOutput(0), n);
            }
        }
        for (NodeProto n : model.graph().nodes()) {
            if (!n.getOpType().equals("BatchNormalization")) {
                continue;
            }
            float[] scale = constFloats(n.getInput(1));
            float[] bias = constFloats(n.getInput(2));
            float[] mean = constFloats(n.getInput(3));
            float[] var = constFloats(n.getInput(4));
            float eps = floatAttr(n, "epsilon", 1e-5f);
            float[] s = new float[scale.length];
            float[] t = new float[scale.length];
            for (int c = 0; c < s.length; c++) {
                s[c] = (float) (scale[c] / Math.sqrt(var[c] + eps));
                t[c] = bias[c] - mean[c] * s[c];
            }
            String in = n.getInput(0);
            if (convByOutput.containsKey(in) && consumerCount.getOrDefault(in, 0) == 1 && !isGraphOutput(in)) {
                foldedBn.put(in, new float[][] {s, t});
                foldedBnOutput.put(in, n.getOutput(0));
                aliases.put(n.getOutput(0), in);
                notes.add("BatchNormalization '" + n.getName() + "' folded into Conv '"
                        + convByOutput.get(in).getName() + "'");
            } else {
                foldedBn.put("bn:" + n.getOutput(0), new float[][] {s, t});
            }
        }
    }

    private boolean isGraphOutput(String name) {
        return model.graph().proto().getOutputList().stream().anyMatch(o -> o.getName().equals(name));
    }

    private float[] constFloats(String name) {
        Val v = vals.get(name);
        if (v == null || v.constant == null) {
            throw new InvalidModelException("'" + name + "' must be a float constant for TFLite compilation");
        }
        return v.constant;
    }

    // ---- nodes ------------------------------------------------------------------------------------------------

    private Val val(String name) {
        String n = aliases.getOrDefault(name, name);
        while (aliases.containsKey(n)) {
            n = aliases.get(n);
        }
        Val v = vals.get(n);
        if (v == null) {
            throw new InvalidModelException("tensor '" + name + "' has no producer");
        }
        return v;
    }

    private void convertNode(NodeProto n) {
        String op = n.getOpType();
        String out = n.getOutput(0);
        if (aliases.containsKey(out)) {
            return; // folded BatchNormalization
        }
        // the batch stays free through every op: a Reshape after a Conv/MaxPool must write -1, not 1, for its batch
        nodeDynamicBatch = n.getInputList().stream().anyMatch(i -> !i.isEmpty() && vals.containsKey(
                aliases.getOrDefault(i, i)) && val(i).dynamicBatch);
        switch (op) {
            case "Constant" -> {
                AttributeProto a = n.getAttributeList().stream().filter(x -> x.getName().equals("value")).findFirst()
                        .orElseThrow(() -> new UnsupportedModelException("Constant '" + n.getName()
                                + "' has no tensor value", List.of("Constant '" + n.getName() + "'")));
                TensorProto t = a.getT();
                Val v = new Val(out);
                v.shape = toInts(Tensors.dims(t));
                if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE
                        || t.getDataType() == TensorProto.DataType.FLOAT16_VALUE) {
                    v.constant = Tensors.toFloats(t);
                } else {
                    v.longs = Tensors.toLongs(t);
                }
                vals.put(out, v);
            }
            case "Identity", "Dropout" -> aliases.put(out, resolveName(n.getInput(0)));
            case "Conv" -> conv(n);
            case "MaxPool", "AveragePool" -> pool(n);
            case "GlobalAveragePool" -> {
                Val x = nhwc(val(n.getInput(0)));
                int[] s = x.shape;
                int axes = constInts("axes:" + n.getName(), new int[] {1, 2});
                ReducerOptionsT o = new ReducerOptionsT();
                o.setKeepDims(true);
                Val y = outVal(out, new int[] {s[0], s[1], 1, 1}, true);
                emit(BuiltinOperator.MEAN, BuiltinOptions.ReducerOptions, o, new int[] {x.tensor, axes},
                        y.tensor);
            }
            case "Relu" -> unary(n, BuiltinOperator.RELU);
            case "Sigmoid" -> unary(n, BuiltinOperator.LOGISTIC);
            case "Tanh" -> unary(n, BuiltinOperator.TANH);
            case "HardSwish" -> unary(n, BuiltinOperator.HARD_SWISH);
            case "LeakyRelu" -> {
                LeakyReluOptionsT o = new LeakyReluOptionsT();
                o.setAlpha(floatAttr(n, "alpha", 0.01f));
                Val x = val(n.getInput(0));
                x = x.isConst() ? materialise(x) : x;
                Val y = outVal(out, x.shape, x.nhwc);
                emit(BuiltinOperator.LEAKY_RELU, BuiltinOptions.LeakyReluOptions, o, new int[] {x.tensor}, y.tensor);
            }
            case "Clip" -> clip(n);
            case "Add", "Sub", "Mul", "Div" -> binary(n);
            case "Gemm", "MatMul" -> gemm(n);
            case "Reshape", "Flatten", "Squeeze", "Unsqueeze" -> reshape(n);
            case "Softmax", "LogSoftmax" -> softmax(n);
            case "Concat" -> concat(n);
            case "Transpose" -> transpose(n);
            case "Pad" -> pad(n);
            case "BatchNormalization" -> {
                // not folded: a per-channel MUL and ADD
                float[][] st = foldedBn.get("bn:" + out);
                Val x = val(n.getInput(0));
                int[] cs = x.shape.length >= 2 ? broadcastChannelShape(x.shape.length, st[0].length) : x.shape;
                Val scale = constVal(st[0], cs);
                Val shift = constVal(st[1], cs);
                Val mid = binaryOp(out + "/scale", BuiltinOperator.MUL, x, scale);
                Val y = binaryOp(out, BuiltinOperator.ADD, mid, shift);
                vals.put(out, y);
            }
            default -> throw new UnsupportedModelException("unsupported op " + op, List.of(op + " '" + n.getName()
                    + "'"));
        }
    }

    private String resolveName(String name) {
        String n = name;
        while (aliases.containsKey(n)) {
            n = aliases.get(n);
        }
        return n;
    }

    private static int[] broadcastChannelShape(int rank, int channels) {
        int[] s = new int[rank];
        Arrays.fill(s, 1);
        s[1] = channels;
        return s;
    }

    private void conv(NodeProto n) {
        Val x = nhwc(val(n.getInput(0)));
        float[] w = constFloats(n.getInput(1));
        int[] ws = val(n.getInput(1)).shape;
        if (ws.length != 4) {
            throw new UnsupportedModelException("Conv '" + n.getName() + "' is not 2-D", List.of("Conv '"
                    + n.getName() + "' (not 2-D)"));
        }
        int o = ws[0], ic = ws[1], kh = ws[2], kw = ws[3];
        float[] b = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constFloats(n.getInput(2)) : new float[o];
        float[][] bn = foldedBn.get(n.getOutput(0));
        if (bn != null) {
            w = w.clone();
            b = b.clone();
            int per = ic * kh * kw;
            for (int oc = 0; oc < o; oc++) {
                for (int i = 0; i < per; i++) {
                    w[oc * per + i] *= bn[0][oc];
                }
                b[oc] = b[oc] * bn[0][oc] + bn[1][oc];
            }
        }
        long group = intAttr(n, "group", 1);
        int[] strides = ints(n, "strides", new int[] {1, 1});
        int[] dil = ints(n, "dilations", new int[] {1, 1});
        int inH = x.shape[2], inW = x.shape[3];
        int[] pads = resolvePads(n, inH, inW, kh, kw, strides, dil);
        int outH = (inH + pads[0] + pads[2] - ((kh - 1) * dil[0] + 1)) / strides[0] + 1;
        int outW = (inW + pads[1] + pads[3] - ((kw - 1) * dil[1] + 1)) / strides[1] + 1;
        byte padding = chooseSamePadding(pads, inH, inW, kh, kw, strides, dil);
        if (padding == -1) {
            x = explicitPad(x, pads, n.getName());
            padding = Padding.VALID;
        }
        Val bias = constVal(b, new int[] {o});
        Val y = outVal(n.getOutput(0), new int[] {x.shape[0], o, outH, outW}, true);
        if (foldedBnOutput.containsKey(n.getOutput(0))) {
            // the tensor holds the BatchNormalization's result: its name is the one a calibration table knows
            tensors.get(y.tensor).setName(foldedBnOutput.get(n.getOutput(0)));
        }
        if (group == 1) {
            // ONNX [O, I, kh, kw] -> TFLite [O, kh, kw, I]
            float[] f = permute(w, new int[] {o, ic, kh, kw}, new int[] {0, 2, 3, 1});
            Val filter = weightVal(f, new int[] {o, kh, kw, ic});
            Conv2DOptionsT opt = new Conv2DOptionsT();
            opt.setPadding(padding);
            opt.setStrideH(strides[0]);
            opt.setStrideW(strides[1]);
            opt.setDilationHFactor(dil[0]);
            opt.setDilationWFactor(dil[1]);
            opt.setFusedActivationFunction(ActivationFunctionType.NONE);
            emit(BuiltinOperator.CONV_2D, BuiltinOptions.Conv2DOptions, opt, new int[] {x.tensor, filter.tensor,
                bias.tensor}, y.tensor);
        } else {
            int cin = x.shape[1];
            if (group != cin || ic != 1) {
                throw new UnsupportedModelException("Conv '" + n.getName() + "' is grouped but not depthwise",
                        List.of("Conv '" + n.getName() + "' (group " + group + ")"));
            }
            // ONNX [O, 1, kh, kw] -> TFLite depthwise [1, kh, kw, O]
            float[] f = permute(w, new int[] {o, 1, kh, kw}, new int[] {1, 2, 3, 0});
            Val filter = weightVal(f, new int[] {1, kh, kw, o});
            DepthwiseConv2DOptionsT opt = new DepthwiseConv2DOptionsT();
            opt.setPadding(padding);
            opt.setStrideH(strides[0]);
            opt.setStrideW(strides[1]);
            opt.setDilationHFactor(dil[0]);
            opt.setDilationWFactor(dil[1]);
            opt.setDepthMultiplier(o / cin);
            opt.setFusedActivationFunction(ActivationFunctionType.NONE);
            emit(BuiltinOperator.DEPTHWISE_CONV_2D, BuiltinOptions.DepthwiseConv2DOptions, opt, new int[] {x.tensor,
                filter.tensor, bias.tensor}, y.tensor);
        }
    }

    /** ONNX pads as [top, left, bottom, right], auto_pad resolved. */
    private static int[] resolvePads(NodeProto n, int inH, int inW, int kh, int kw, int[] s, int[] d) {
        String auto = stringAttr(n, "auto_pad", "NOTSET");
        if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
            int[] p = new int[4];
            int[] in = {inH, inW};
            int[] k = {kh, kw};
            for (int i = 0; i < 2; i++) {
                int out = (in[i] + s[i] - 1) / s[i];
                int total = Math.max((out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i], 0);
                int small = total / 2;
                p[i] = auto.equals("SAME_UPPER") ? small : total - small;
                p[i + 2] = total - p[i];
            }
            return p;
        }
        int[] p = ints(n, "pads", new int[] {0, 0, 0, 0});
        return p;
    }

    /** Padding.SAME or VALID when the explicit pads are exactly what TFLite computes; -1 otherwise. */
    private static byte chooseSamePadding(int[] pads, int inH, int inW, int kh, int kw, int[] s, int[] d) {
        if (pads[0] == 0 && pads[1] == 0 && pads[2] == 0 && pads[3] == 0) {
            return Padding.VALID;
        }
        int[] in = {inH, inW};
        int[] k = {kh, kw};
        for (int i = 0; i < 2; i++) {
            int out = (in[i] + s[i] - 1) / s[i];
            int total = Math.max((out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i], 0);
            if (pads[i] != total / 2 || pads[i + 2] != total - total / 2) {
                return -1;
            }
        }
        return Padding.SAME;
    }

    private Val explicitPad(Val x, int[] pads, String node) {
        int[] p = {0, 0, pads[0], pads[2], pads[1], pads[3], 0, 0}; // NHWC [[0,0],[t,b],[l,r],[0,0]]
        int pt = constInts(x.name + "/pad_" + node, p, new int[] {4, 2});
        int[] s = x.shape;
        Val y = outVal(x.name + "/padded_" + node, new int[] {s[0], s[1], s[2] + pads[0] + pads[2],
            s[3] + pads[1] + pads[3]}, true);
        emit(BuiltinOperator.PAD, BuiltinOptions.PadOptions, new PadOptionsT(), new int[] {x.tensor, pt}, y.tensor);
        notes.add("explicit PAD before " + node + " (its pads are not TFLite's SAME)");
        return y;
    }

    private void pool(NodeProto n) {
        boolean max = n.getOpType().equals("MaxPool");
        Val x = nhwc(val(n.getInput(0)));
        int[] k = ints(n, "kernel_shape", null);
        int[] strides = ints(n, "strides", new int[] {1, 1});
        int[] dil = ints(n, "dilations", new int[] {1, 1});
        if (dil[0] != 1 || dil[1] != 1) {
            throw new UnsupportedModelException(n.getOpType() + " '" + n.getName() + "' has dilations",
                    List.of(n.getOpType() + " '" + n.getName() + "' (dilations)"));
        }
        int inH = x.shape[2], inW = x.shape[3];
        int[] pads = resolvePads(n, inH, inW, k[0], k[1], strides, dil);
        byte padding = chooseSamePadding(pads, inH, inW, k[0], k[1], strides, dil);
        boolean countPad = intAttr(n, "count_include_pad", 0) != 0;
        if (padding == -1 || (padding == Padding.SAME && !max && countPad)) {
            throw new UnsupportedModelException(n.getOpType() + " '" + n.getName() + "' pads in a way TFLite's pool"
                    + " cannot express", List.of(n.getOpType() + " '" + n.getName() + "' (pads " + Arrays.toString(pads)
                    + ")"));
        }
        int outH = (inH + pads[0] + pads[2] - k[0]) / strides[0] + 1;
        int outW = (inW + pads[1] + pads[3] - k[1]) / strides[1] + 1;
        Pool2DOptionsT o = new Pool2DOptionsT();
        o.setPadding(padding);
        o.setFilterHeight(k[0]);
        o.setFilterWidth(k[1]);
        o.setStrideH(strides[0]);
        o.setStrideW(strides[1]);
        o.setFusedActivationFunction(ActivationFunctionType.NONE);
        Val y = outVal(n.getOutput(0), new int[] {x.shape[0], x.shape[1], outH, outW}, true);
        emit(max ? BuiltinOperator.MAX_POOL_2D : BuiltinOperator.AVERAGE_POOL_2D, BuiltinOptions.Pool2DOptions, o,
                new int[] {x.tensor}, y.tensor);
    }

    private void unary(NodeProto n, int code) {
        Val x = val(n.getInput(0));
        x = x.isConst() ? materialise(x) : x;
        Val y = outVal(n.getOutput(0), x.shape, x.nhwc);
        emit(code, BuiltinOptions.NONE, null, new int[] {x.tensor}, y.tensor);
    }

    private void clip(NodeProto n) {
        float lo = Float.NEGATIVE_INFINITY, hi = Float.POSITIVE_INFINITY;
        if (opset < 11) {
            lo = floatAttr(n, "min", lo);
            hi = floatAttr(n, "max", hi);
        } else {
            if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
                lo = constFloats(n.getInput(1))[0];
            }
            if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
                hi = constFloats(n.getInput(2))[0];
            }
        }
        if (lo == 0 && hi == 6) {
            unary(n, BuiltinOperator.RELU6);
        } else if (lo == 0 && hi == Float.POSITIVE_INFINITY) {
            unary(n, BuiltinOperator.RELU);
        } else if (lo == -1 && hi == 1) {
            unary(n, BuiltinOperator.RELU_N1_TO_1);
        } else {
            Val x = val(n.getInput(0));
            Val cur = x;
            if (hi != Float.POSITIVE_INFINITY) {
                cur = binaryOp(n.getOutput(0) + (lo != Float.NEGATIVE_INFINITY ? "/min" : ""), BuiltinOperator.MINIMUM,
                        cur, constVal(new float[] {hi}, new int[0]));
            }
            if (lo != Float.NEGATIVE_INFINITY) {
                cur = binaryOp(n.getOutput(0), BuiltinOperator.MAXIMUM, cur, constVal(new float[] {lo}, new int[0]));
            }
            vals.put(n.getOutput(0), cur);
        }
    }

    private void binary(NodeProto n) {
        int code = switch (n.getOpType()) {
            case "Add" -> BuiltinOperator.ADD;
            case "Sub" -> BuiltinOperator.SUB;
            case "Mul" -> BuiltinOperator.MUL;
            default -> BuiltinOperator.DIV;
        };
        Val y = binaryOp(n.getOutput(0), code, val(n.getInput(0)), val(n.getInput(1)));
        vals.put(n.getOutput(0), y);
    }

    /** An elementwise op with numpy broadcasting, the operands brought to one layout. */
    private Val binaryOp(String out, int code, Val a, Val b) {
        int rank = Math.max(a.shape.length, b.shape.length);
        boolean toNhwc = rank == 4 && ((a.nhwc && !a.isConst()) || (b.nhwc && !b.isConst()));
        Val ta = operand(a, rank, toNhwc);
        Val tb = operand(b, rank, toNhwc);
        int[] shape = new int[rank];
        int[] as = padLeft(a.shape, rank), bs = padLeft(b.shape, rank);
        for (int i = 0; i < rank; i++) {
            shape[i] = Math.max(as[i], bs[i]);
        }
        Val y = outVal(out, shape, toNhwc);
        y.dynamicBatch = a.dynamicBatch || b.dynamicBatch;
        byte optType;
        Object opt;
        switch (code) {
            case BuiltinOperator.ADD -> {
                optType = BuiltinOptions.AddOptions;
                opt = new AddOptionsT();
            }
            case BuiltinOperator.SUB -> {
                optType = BuiltinOptions.SubOptions;
                opt = new SubOptionsT();
            }
            case BuiltinOperator.MUL -> {
                optType = BuiltinOptions.MulOptions;
                opt = new MulOptionsT();
            }
            case BuiltinOperator.DIV -> {
                optType = BuiltinOptions.DivOptions;
                opt = new DivOptionsT();
            }
            default -> {
                optType = BuiltinOptions.NONE;
                opt = null;
            }
        }
        emit(code, optType, opt, new int[] {ta.tensor, tb.tensor}, y.tensor);
        return y;
    }

    private Val operand(Val v, int rank, boolean toNhwc) {
        if (v.isConst()) {
            int[] s = padLeft(v.shape, rank);
            float[] data = v.constant != null ? v.constant : toFloatArray(v.longs);
            if (toNhwc) {
                return constVal(permute(data, s, TO_NHWC), permuteShape(s, TO_NHWC));
            }
            return constVal(data, v.shape);
        }
        return toNhwc ? nhwc(v) : plain(v);
    }

    private void gemm(NodeProto n) {
        boolean isGemm = n.getOpType().equals("Gemm");
        Val a = val(n.getInput(0));
        Val bv = val(n.getInput(1));
        if (!bv.isConst() || bv.shape.length != 2 || a.shape.length != 2 && !(a.nhwc && a.shape.length == 4)) {
            throw new UnsupportedModelException(n.getOpType() + " '" + n.getName() + "' is not a 2-D product with"
                    + " constant weights", List.of(n.getOpType() + " '" + n.getName() + "'"));
        }
        float alpha = isGemm ? floatAttr(n, "alpha", 1f) : 1f;
        float beta = isGemm ? floatAttr(n, "beta", 1f) : 1f;
        boolean transB = isGemm && intAttr(n, "transB", 0) != 0;
        int k = transB ? bv.shape[1] : bv.shape[0];
        int nOut = transB ? bv.shape[0] : bv.shape[1];
        // FULLY_CONNECTED weights are [out, in]
        float[] w = transB ? bv.constant.clone() : permute(bv.constant, bv.shape, new int[] {1, 0});
        if (alpha != 1f) {
            for (int i = 0; i < w.length; i++) {
                w[i] *= alpha;
            }
        }
        Val x = a;
        int[] columnOrder = flattenedNhwcOrder.get(a.name);
        if (columnOrder != null) {
            // the input is an NHWC tensor flattened in NHWC order: permute the weight columns to match
            float[] pw = new float[w.length];
            for (int r = 0; r < nOut; r++) {
                for (int c = 0; c < k; c++) {
                    pw[r * k + c] = w[r * k + columnOrder[c]];
                }
            }
            w = pw;
        } else {
            x = plain(a);
        }
        float[] bias = new float[nOut];
        if (isGemm && n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            Val c = val(n.getInput(2));
            float[] cv = c.constant;
            if (cv == null || (cv.length != nOut && cv.length != 1)) {
                throw new UnsupportedModelException("Gemm '" + n.getName() + "' has a bias that is not a constant"
                        + " row", List.of("Gemm '" + n.getName() + "'"));
            }
            for (int i = 0; i < nOut; i++) {
                bias[i] = beta * cv[cv.length == 1 ? 0 : i];
            }
        }
        Val wv = weightVal(w, new int[] {nOut, k});
        Val bvv = constVal(bias, new int[] {nOut});
        FullyConnectedOptionsT o = new FullyConnectedOptionsT();
        o.setFusedActivationFunction(ActivationFunctionType.NONE);
        Val y = outVal(n.getOutput(0), new int[] {x.shape[0], nOut}, false);
        emit(BuiltinOperator.FULLY_CONNECTED, BuiltinOptions.FullyConnectedOptions, o, new int[] {x.tensor, wv.tensor,
            bvv.tensor}, y.tensor);
    }

    /** Tensors holding an NHWC activation flattened in NHWC order: column c of it is NCHW column order[c]. */
    private final Map<String, int[]> flattenedNhwcOrder = new HashMap<>();

    private void reshape(NodeProto n) {
        String op = n.getOpType();
        Val x = val(n.getInput(0));
        int[] in = x.shape;
        int[] target;
        switch (op) {
            case "Flatten" -> {
                int axis = (int) intAttr(n, "axis", 1);
                axis = axis < 0 ? axis + in.length : axis;
                int outer = 1, inner = 1;
                for (int i = 0; i < in.length; i++) {
                    if (i < axis) {
                        outer *= in[i];
                    } else {
                        inner *= in[i];
                    }
                }
                target = new int[] {outer, inner};
            }
            case "Reshape" -> {
                long[] spec;
                if (opset < 5) {
                    spec = longsAttr(n, "shape");
                } else {
                    Val s = val(n.getInput(1));
                    if (s.longs == null) {
                        throw new UnsupportedModelException("Reshape '" + n.getName() + "' has a computed shape",
                                List.of("Reshape '" + n.getName() + "' (shape not constant)"));
                    }
                    spec = s.longs;
                }
                target = new int[spec.length];
                long known = 1;
                int unknown = -1;
                for (int i = 0; i < spec.length; i++) {
                    if (spec[i] == 0) {
                        target[i] = in[i];
                    } else if (spec[i] == -1) {
                        unknown = i;
                        continue;
                    } else {
                        target[i] = (int) spec[i];
                    }
                    known *= target[i];
                }
                if (unknown >= 0) {
                    target[unknown] = (int) (product(in) / known);
                }
            }
            case "Squeeze", "Unsqueeze" -> {
                long[] axes = opset < 13 ? longsAttr(n, "axes")
                        : n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? val(n.getInput(1)).longs : null;
                List<Integer> shape = new ArrayList<>();
                if (op.equals("Squeeze")) {
                    for (int i = 0; i < in.length; i++) {
                        boolean drop = axes == null ? in[i] == 1 : containsAxis(axes, i, in.length);
                        if (!drop) {
                            shape.add(in[i]);
                        }
                    }
                } else {
                    int rank = in.length + axes.length;
                    int j = 0;
                    for (int i = 0; i < rank; i++) {
                        shape.add(containsAxis(axes, i, rank) ? 1 : in[j++]);
                    }
                }
                target = shape.stream().mapToInt(Integer::intValue).toArray();
            }
            default -> throw new IllegalStateException(op);
        }
        if (x.isConst()) {
            Val c = new Val(n.getOutput(0));
            c.constant = x.constant;
            c.longs = x.longs;
            c.shape = target;
            vals.put(c.name, c);
            return;
        }
        Val src;
        if (x.nhwc && !(in[2] * in[3] == 1)) {
            boolean feedsFc = target.length == 2 && target[0] == in[0] && allConsumersAreFc(n.getOutput(0));
            if (feedsFc) {
                src = x; // flatten NHWC order; the FC permutes its weight columns
                int c = in[1], h = in[2], w = in[3];
                int[] order = new int[c * h * w];
                int idx = 0;
                for (int hh = 0; hh < h; hh++) {
                    for (int ww = 0; ww < w; ww++) {
                        for (int cc = 0; cc < c; cc++) {
                            order[idx++] = cc * h * w + hh * w + ww;
                        }
                    }
                }
                flattenedNhwcOrder.put(n.getOutput(0), order);
            } else {
                src = plain(x);
                notes.add("TRANSPOSE to NCHW before " + op + " '" + n.getName() + "'");
            }
        } else {
            src = x; // plain, or NHWC with H·W == 1 where both orders agree
        }
        int[] spec = target.clone();
        if (x.dynamicBatch && spec.length > 0 && target[0] == in[0]) {
            spec[0] = -1;
        }
        int shapeT = constInts(n.getOutput(0) + "/shape", spec, new int[] {spec.length});
        ReshapeOptionsT o = new ReshapeOptionsT();
        o.setNewShape(spec);
        Val y = outVal(n.getOutput(0), target, false);
        y.dynamicBatch = x.dynamicBatch;
        emit(BuiltinOperator.RESHAPE, BuiltinOptions.ReshapeOptions, o, new int[] {src.tensor, shapeT}, y.tensor);
    }

    private boolean allConsumersAreFc(String tensor) {
        List<NodeProto> consumers = model.graph().consumers(tensor);
        if (consumers.isEmpty() || isGraphOutput(tensor)) {
            return false;
        }
        for (NodeProto c : consumers) {
            boolean fc = (c.getOpType().equals("Gemm") || c.getOpType().equals("MatMul")) && c.getInput(0).equals(tensor)
                    && vals.containsKey(c.getInput(1)) && vals.get(c.getInput(1)).isConst();
            if (!fc) {
                return false;
            }
        }
        return true;
    }

    private static boolean containsAxis(long[] axes, int i, int rank) {
        for (long a : axes) {
            if ((a < 0 ? a + rank : a) == i) {
                return true;
            }
        }
        return false;
    }

    private void softmax(NodeProto n) {
        Val x = val(n.getInput(0));
        int rank = x.shape.length;
        int axis = (int) intAttr(n, "axis", opset < 13 ? 1 : -1);
        axis = axis < 0 ? axis + rank : axis;
        boolean lastAxis;
        if (x.nhwc) {
            // channels are last in NHWC; before opset 13 Softmax coerces to 2-D, the same only when H·W == 1
            lastAxis = axis == 1 && (opset >= 13 || x.shape[2] * x.shape[3] == 1);
        } else {
            // opset < 13 coerces to 2-D at axis: the same as the last axis when axis is rank-1
            lastAxis = axis == rank - 1;
        }
        if (!lastAxis) {
            throw new UnsupportedModelException(n.getOpType() + " '" + n.getName() + "' is not over the last axis",
                    List.of(n.getOpType() + " '" + n.getName() + "' (axis " + axis + ")"));
        }
        Val y = outVal(n.getOutput(0), x.shape, x.nhwc);
        y.dynamicBatch = x.dynamicBatch;
        if (n.getOpType().equals("LogSoftmax")) {
            emit(BuiltinOperator.LOG_SOFTMAX, BuiltinOptions.LogSoftmaxOptions, new LogSoftmaxOptionsT(),
                    new int[] {x.tensor}, y.tensor);
        } else {
            SoftmaxOptionsT o = new SoftmaxOptionsT();
            o.setBeta(1f);
            emit(BuiltinOperator.SOFTMAX, BuiltinOptions.SoftmaxOptions, o, new int[] {x.tensor}, y.tensor);
        }
    }

    private void concat(NodeProto n) {
        List<Val> ins = new ArrayList<>();
        boolean anyNhwc = false;
        for (String s : n.getInputList()) {
            Val v = val(s);
            ins.add(v);
            anyNhwc |= v.nhwc && !v.isConst();
        }
        int rank = ins.get(0).shape.length;
        int axis = (int) intAttr(n, "axis", 0);
        axis = axis < 0 ? axis + rank : axis;
        boolean toNhwc = anyNhwc && rank == 4;
        int[] ids = new int[ins.size()];
        int[] shape = ins.get(0).shape.clone();
        shape[axis] = 0;
        for (int i = 0; i < ins.size(); i++) {
            Val v = ins.get(i);
            ids[i] = (v.isConst() ? operand(v, rank, toNhwc) : toNhwc ? nhwc(v) : plain(v)).tensor;
            shape[axis] += v.shape[axis];
        }
        ConcatenationOptionsT o = new ConcatenationOptionsT();
        o.setAxis(toNhwc ? indexOf(TO_NHWC, axis) : axis);
        Val y = outVal(n.getOutput(0), shape, toNhwc);
        emit(BuiltinOperator.CONCATENATION, BuiltinOptions.ConcatenationOptions, o, ids, y.tensor);
    }

    private void transpose(NodeProto n) {
        Val x = val(n.getInput(0));
        int rank = x.shape.length;
        int[] perm = ints(n, "perm", null);
        if (perm == null) {
            perm = new int[rank];
            for (int i = 0; i < rank; i++) {
                perm[i] = rank - 1 - i;
            }
        }
        int[] shape = permuteShape(x.shape, perm);
        int[] tflPerm = perm;
        if (x.nhwc) {
            // logical = tfl permuted by TO_NCHW; out = logical permuted by perm
            tflPerm = new int[rank];
            for (int i = 0; i < rank; i++) {
                tflPerm[i] = TO_NCHW[perm[i]];
            }
        }
        x = x.isConst() ? materialise(x) : x;
        int pt = constInts(n.getOutput(0) + "/perm", tflPerm, new int[] {rank});
        Val y = outVal(n.getOutput(0), shape, false);
        emit(BuiltinOperator.TRANSPOSE, BuiltinOptions.TransposeOptions, new TransposeOptionsT(), new int[] {x.tensor,
            pt}, y.tensor);
    }

    private void pad(NodeProto n) {
        Val x = val(n.getInput(0));
        String mode = stringAttr(n, "mode", "constant");
        long[] pads = opset < 11 ? longsAttr(n, "pads") : val(n.getInput(1)).longs;
        float value = opset < 11 ? floatAttr(n, "value", 0f)
                : n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constFloats(n.getInput(2))[0] : 0f;
        if (!mode.equals("constant") || value != 0f || pads == null) {
            throw new UnsupportedModelException("Pad '" + n.getName() + "' is not a zero constant pad",
                    List.of("Pad '" + n.getName() + "' (mode " + mode + ", value " + value + ")"));
        }
        int rank = x.shape.length;
        int[] shape = new int[rank];
        int[] p = new int[rank * 2];
        for (int i = 0; i < rank; i++) {
            int tfl = x.nhwc ? TO_NHWC[i] : i; // TFLite dim i holds logical dim tfl
            p[2 * i] = (int) pads[tfl];
            p[2 * i + 1] = (int) pads[tfl + rank];
            shape[i] = x.shape[i] + (int) pads[i] + (int) pads[i + rank];
        }
        x = x.isConst() ? materialise(x) : x;
        int pt = constInts(n.getOutput(0) + "/pads", p, new int[] {rank, 2});
        Val y = outVal(n.getOutput(0), shape, x.nhwc);
        emit(BuiltinOperator.PAD, BuiltinOptions.PadOptions, new PadOptionsT(), new int[] {x.tensor, pt}, y.tensor);
    }

    // ---- layout ------------------------------------------------------------------------------------------------

    /** The value as an NHWC TFLite tensor (rank 4), transposing once and caching. */
    private Val nhwc(Val v) {
        if (v.shape.length != 4) {
            throw new UnsupportedModelException("'" + v.name + "' is not rank 4 where a spatial op needs it",
                    List.of("'" + v.name + "'"));
        }
        if (v.nhwc) {
            return v;
        }
        if (v.nhwcCopy != null) {
            return v.nhwcCopy;
        }
        if (v.isConst()) {
            v = materialise(v);
        }
        int perm = constInts(v.name + "/to_nhwc_perm", TO_NHWC, new int[] {4});
        Val y = new Val(v.name + "/nhwc");
        y.shape = v.shape;
        y.nhwc = true;
        y.dynamicBatch = v.dynamicBatch;
        y.tensor = addTensor(y.name, permuteShape(v.shape, TO_NHWC), TensorType.FLOAT32, 0, false);
        emit(BuiltinOperator.TRANSPOSE, BuiltinOptions.TransposeOptions, new TransposeOptionsT(), new int[] {v.tensor,
            perm}, y.tensor);
        v.nhwcCopy = y;
        y.plainCopy = v;
        return y;
    }

    /** The value as a TFLite tensor in the ONNX layout. */
    private Val plain(Val v) {
        if (!v.nhwc) {
            return v.isConst() ? materialise(v) : v;
        }
        if (v.plainCopy != null) {
            return v.plainCopy;
        }
        Val y = new Val(v.name + "/nchw");
        y.shape = v.shape;
        y.dynamicBatch = v.dynamicBatch;
        y.tensor = addTensor(y.name, v.shape, TensorType.FLOAT32, 0, false);
        if (v.shape[2] * v.shape[3] == 1) {
            int s = constInts(y.name + "/shape", v.shape, new int[] {4});
            ReshapeOptionsT o = new ReshapeOptionsT();
            o.setNewShape(v.shape);
            emit(BuiltinOperator.RESHAPE, BuiltinOptions.ReshapeOptions, o, new int[] {v.tensor, s}, y.tensor);
        } else {
            int perm = constInts(y.name + "/perm", TO_NCHW, new int[] {4});
            emit(BuiltinOperator.TRANSPOSE, BuiltinOptions.TransposeOptions, new TransposeOptionsT(),
                    new int[] {v.tensor, perm}, y.tensor);
        }
        v.plainCopy = y;
        y.nhwcCopy = v;
        return y;
    }

    /** A constant that an op consumes as an activation: written as a float tensor. */
    private Val materialise(Val v) {
        if (v.tensor >= 0) {
            return v;
        }
        float[] data = v.constant != null ? v.constant : toFloatArray(v.longs);
        v.tensor = addTensor(v.name, v.shape, TensorType.FLOAT32, addBuffer(floatBytes(data)), false);
        return v;
    }

    // ---- tensors, buffers, operators ---------------------------------------------------------------------------

    private Val outVal(String name, int[] logical, boolean nhwc) {
        Val v = new Val(name);
        v.shape = logical;
        v.nhwc = nhwc;
        v.dynamicBatch = nodeDynamicBatch;
        v.tensor = addTensor(name, nhwc ? permuteShape(logical, TO_NHWC) : logical, TensorType.FLOAT32, 0, false);
        vals.put(name, v);
        return v;
    }

    private Val constVal(float[] data, int[] shape) {
        Val v = new Val("const_" + tensors.size());
        v.constant = data;
        v.shape = shape;
        v.tensor = addTensor(v.name, shape, TensorType.FLOAT32, addBuffer(floatBytes(data)), false);
        return v;
    }

    /** A weight tensor: float32 (also for int8), or float16 followed by a DEQUANTIZE when the precision says so. */
    private Val weightVal(float[] data, int[] shape) {
        if (precision != Precision.FLOAT16) {
            return constVal(data, shape); // int8 weights are quantised from these by TfliteInt8Quantizer
        }
        Val v = new Val("weight_" + tensors.size());
        v.shape = shape;
        int half = addTensor(v.name + "_fp16", shape, TensorType.FLOAT16, addBuffer(halfBytes(data)), false);
        v.tensor = addTensor(v.name, shape, TensorType.FLOAT32, 0, false);
        emit(BuiltinOperator.DEQUANTIZE, BuiltinOptions.DequantizeOptions, new DequantizeOptionsT(), new int[] {half},
                v.tensor);
        return v;
    }

    private final Map<String, Integer> intConsts = new HashMap<>();

    private int constInts(String name, int[] values) {
        return constInts(name, values, new int[] {values.length});
    }

    private int constInts(String name, int[] values, int[] shape) {
        String key = Arrays.toString(values) + Arrays.toString(shape);
        Integer cached = intConsts.get(key);
        if (cached != null) {
            return cached;
        }
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : values) {
            b.putInt(x);
        }
        int t = addTensor(name, shape, TensorType.INT32, addBuffer(b.array()), false);
        intConsts.put(key, t);
        return t;
    }

    private int addTensor(String name, int[] shape, byte type, int buffer, boolean dynamicBatch) {
        TensorT t = new TensorT();
        t.setName(name);
        t.setShape(shape.clone());
        t.setType(type);
        t.setBuffer(buffer);
        if (dynamicBatch && shape.length > 0) {
            int[] sig = shape.clone();
            sig[0] = -1;
            t.setShapeSignature(sig);
        }
        tensors.add(t);
        return tensors.size() - 1;
    }

    private int addBuffer(byte[] data) {
        BufferT b = new BufferT();
        int[] d = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            d[i] = data[i] & 0xff;
        }
        b.setData(d);
        buffers.add(b);
        return buffers.size() - 1;
    }

    private int opcode(int code) {
        Integer idx = opcodeIndex.get(code);
        if (idx == null) {
            OperatorCodeT c = new OperatorCodeT();
            c.setBuiltinCode(code);
            c.setDeprecatedBuiltinCode((byte) Math.min(code, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES));
            c.setVersion(1);
            opcodes.add(c);
            idx = opcodes.size() - 1;
            opcodeIndex.put(code, idx);
        }
        return idx;
    }

    private void emit(int code, byte optionsType, Object options, int[] inputs, int output) {
        OperatorT op = new OperatorT();
        op.setOpcodeIndex(opcode(code));
        op.setInputs(inputs);
        op.setOutputs(new int[] {output});
        if (options != null) {
            BuiltinOptionsUnion u = new BuiltinOptionsUnion();
            u.setType(optionsType);
            u.setValue(options);
            op.setBuiltinOptions(u);
        }
        operators.add(op);
        opCounts.merge(BuiltinOperator.name(code), 1, Integer::sum);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static byte[] floatBytes(float[] data) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static byte[] halfBytes(float[] data) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            b.putShort(ai.onnxruntime.platform.Fp16Conversions.floatToFp16(f));
        }
        return b.array();
    }

    private static float[] toFloatArray(long[] longs) {
        float[] f = new float[longs.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = longs[i];
        }
        return f;
    }

    /** Transposes a dense row-major tensor of the given shape by perm (output dim i = input dim perm[i]). */
    static float[] permute(float[] data, int[] shape, int[] perm) {
        int rank = shape.length;
        int[] outShape = permuteShape(shape, perm);
        int[] inStrides = new int[rank];
        int s = 1;
        for (int i = rank - 1; i >= 0; i--) {
            inStrides[i] = s;
            s *= shape[i];
        }
        float[] out = new float[data.length];
        int[] idx = new int[rank];
        for (int o = 0; o < out.length; o++) {
            int src = 0;
            for (int i = 0; i < rank; i++) {
                src += idx[i] * inStrides[perm[i]];
            }
            out[o] = data[src];
            for (int i = rank - 1; i >= 0; i--) {
                if (++idx[i] < outShape[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        return out;
    }

    static int[] permuteShape(int[] shape, int[] perm) {
        int[] out = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            out[i] = shape[perm[i]];
        }
        return out;
    }

    private static int[] padLeft(int[] shape, int rank) {
        int[] out = new int[rank];
        Arrays.fill(out, 1);
        System.arraycopy(shape, 0, out, rank - shape.length, shape.length);
        return out;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static long product(int[] s) {
        long p = 1;
        for (int x : s) {
            p *= x;
        }
        return p;
    }

    private static int[] toInts(long[] dims) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = Math.toIntExact(dims[i]);
        }
        return out;
    }

    private static AttributeProto attr(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    static long intAttr(NodeProto n, String name, long def) {
        AttributeProto a = attr(n, name);
        return a == null ? def : a.getI();
    }

    private static float floatAttr(NodeProto n, String name, float def) {
        AttributeProto a = attr(n, name);
        return a == null ? def : a.getF();
    }

    private static String stringAttr(NodeProto n, String name, String def) {
        AttributeProto a = attr(n, name);
        return a == null ? def : a.getS().toStringUtf8();
    }

    private static int[] ints(NodeProto n, String name, int[] def) {
        AttributeProto a = attr(n, name);
        if (a == null) {
            return def;
        }
        return a.getIntsList().stream().mapToInt(Long::intValue).toArray();
    }

    private static long[] longsAttr(NodeProto n, String name) {
        AttributeProto a = attr(n, name);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }
}
