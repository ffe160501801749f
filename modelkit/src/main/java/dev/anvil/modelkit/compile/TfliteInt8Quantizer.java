package dev.anvil.modelkit.compile;

import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.modelkit.quantize.QuantParams;
import dev.anvil.modelkit.quantize.QuantType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntUnaryOperator;
import org.tensorflow.lite.schema.ActivationFunctionType;
import org.tensorflow.lite.schema.BufferT;
import org.tensorflow.lite.schema.BuiltinOperator;
import org.tensorflow.lite.schema.BuiltinOptions;
import org.tensorflow.lite.schema.BuiltinOptionsUnion;
import org.tensorflow.lite.schema.Conv2DOptionsT;
import org.tensorflow.lite.schema.DepthwiseConv2DOptionsT;
import org.tensorflow.lite.schema.DequantizeOptionsT;
import org.tensorflow.lite.schema.FullyConnectedOptionsT;
import org.tensorflow.lite.schema.OperatorCodeT;
import org.tensorflow.lite.schema.OperatorT;
import org.tensorflow.lite.schema.QuantizationParametersT;
import org.tensorflow.lite.schema.QuantizeOptionsT;
import org.tensorflow.lite.schema.TensorT;
import org.tensorflow.lite.schema.TensorType;

/**
 * Rewrites the float TFLite graph {@link TfliteConverter} built into a full-integer one, in TFLite's int8 scheme:
 * <ul>
 *   <li>weights of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED: int8, symmetric, one scale per output channel
 *       (values in [-127, 127], zero point 0);</li>
 *   <li>biases: int32, scale = input scale × weight scale of the channel, zero point 0;</li>
 *   <li>activations: int8, asymmetric, per tensor, from the calibration table's chosen min/max (widened to hold 0);
 *       ops whose output TFLite fixes get that (SOFTMAX and LOGISTIC 1/256 zero point -128, LOG_SOFTMAX 16/256
 *       zero point 127, TANH 1/128 zero point 0); ops whose output must keep the input's parameters (MAX_POOL_2D,
 *       AVERAGE_POOL_2D, RESHAPE, TRANSPOSE, PAD, MEAN, MINIMUM/MAXIMUM) share them; CONCATENATION takes the union of
 *       its inputs' ranges and requantises (int8 QUANTIZE) each input whose parameters differ; a RELU that follows a
 *       convolution or fully-connected layer alone is fused into it (the table holds the range after the RELU);
 *   <li>I/O float by default: a QUANTIZE after each input and a DEQUANTIZE before each output, so callers feed and
 *       read the same float tensors as the float model; or int8 (TFLite's {@code inference_input_type=int8}): the
 *       graph's inputs and outputs are the int8 tensors themselves, under the ONNX names, and callers quantise and
 *       dequantise with their scale and zero point.</li>
 * </ul>
 * Every activation range it needs and the table lacks is collected, and the rewrite is refused naming all of them.
 */
final class TfliteInt8Quantizer {
    /** Tensors whose ranges the calibration table must hold; thrown when some are missing. */
    static final class MissingRangesException extends dev.anvil.modelkit.onnx.InvalidModelException {
        private final Set<String> missing;

        MissingRangesException(String message, Set<String> missing) {
            super(message);
            this.missing = Set.copyOf(missing);
        }

        Set<String> missing() {
            return missing;
        }
    }

    private record Q(float[] scale, long[] zeroPoint, int axis) {
        static Q of(QuantParams p) {
            return new Q(new float[] {p.scale()}, new long[] {p.zeroPoint()}, 0);
        }

        float lo() {
            return (-128 - zeroPoint[0]) * scale[0];
        }

        float hi() {
            return (127 - zeroPoint[0]) * scale[0];
        }

        boolean sameAs(Q o) {
            return scale[0] == o.scale[0] && zeroPoint[0] == o.zeroPoint[0];
        }
    }

    /** Opcode versions TFLite's converter writes for these ops with int8 tensors (lite/tools/versioning). */
    private static final Map<Integer, Integer> INT8_VERSIONS = Map.ofEntries(Map.entry(BuiltinOperator.CONV_2D, 3),
            Map.entry(BuiltinOperator.DEPTHWISE_CONV_2D, 3), Map.entry(BuiltinOperator.FULLY_CONNECTED, 4),
            Map.entry(BuiltinOperator.MAX_POOL_2D, 2), Map.entry(BuiltinOperator.AVERAGE_POOL_2D, 2),
            Map.entry(BuiltinOperator.TRANSPOSE, 2), Map.entry(BuiltinOperator.DEQUANTIZE, 2),
            Map.entry(BuiltinOperator.QUANTIZE, 2), Map.entry(BuiltinOperator.RELU, 2),
            Map.entry(BuiltinOperator.RELU6, 2), Map.entry(BuiltinOperator.ADD, 2), Map.entry(BuiltinOperator.SUB, 2),
            Map.entry(BuiltinOperator.MUL, 2), Map.entry(BuiltinOperator.SOFTMAX, 2),
            Map.entry(BuiltinOperator.LOG_SOFTMAX, 2), Map.entry(BuiltinOperator.LOGISTIC, 2),
            Map.entry(BuiltinOperator.TANH, 2), Map.entry(BuiltinOperator.CONCATENATION, 2),
            Map.entry(BuiltinOperator.PAD, 2), Map.entry(BuiltinOperator.MEAN, 2),
            Map.entry(BuiltinOperator.MINIMUM, 2), Map.entry(BuiltinOperator.MAXIMUM, 2),
            Map.entry(BuiltinOperator.LEAKY_RELU, 2));

    private final List<TensorT> tensors;
    private final List<BufferT> buffers;
    private final List<OperatorT> operators;
    private final List<OperatorCodeT> opcodes;
    private final List<Integer> inputs;
    private final List<Integer> outputs;
    private final Map<String, CalibrationTable.Range> ranges;
    private final IntUnaryOperator opcodeIndex;
    private final boolean int8Io;
    private final Map<Integer, Q> params = new HashMap<>();
    private final Set<String> missing = new TreeSet<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> unsupported = new ArrayList<>();

    TfliteInt8Quantizer(List<TensorT> tensors, List<BufferT> buffers, List<OperatorT> operators,
            List<OperatorCodeT> opcodes, List<Integer> inputs, List<Integer> outputs,
            Map<String, CalibrationTable.Range> ranges, IntUnaryOperator opcodeIndex, boolean int8Io) {
        this.tensors = tensors;
        this.buffers = buffers;
        this.operators = operators;
        this.opcodes = opcodes;
        this.inputs = inputs;
        this.outputs = outputs;
        this.ranges = ranges;
        this.opcodeIndex = opcodeIndex;
        this.int8Io = int8Io;
    }

    /** Rewrites the lists in place; returns what it did worth a note. */
    List<String> run() {
        int fused = fuseActivations();
        if (fused > 0) {
            notes.add(fused + " RELU/RELU6 fused into the convolution or fully-connected layer before it (or before"
                    + " the MAX_POOL_2D between them)");
        }
        for (int t : inputs) {
            params.put(t, rangeParams(t));
        }
        List<OperatorT> rewritten = new ArrayList<>();
        for (OperatorT op : operators) {
            quantizeOp(op, rewritten);
            rewritten.add(op);
        }
        if (!unsupported.isEmpty()) {
            throw new UnsupportedModelException("TFLite ops without an int8 rule here: " + unsupported, unsupported);
        }
        if (!missing.isEmpty()) {
            throw new MissingRangesException("the calibration table has no range for " + missing.size()
                    + " tensor(s) the INT8 model needs: " + missing + "; it holds " + ranges.size()
                    + " other tensor(s)" + sample(ranges.keySet()) + ". It was most likely measured on another model:"
                    + " calibrate this model (quantize, mode: static) and pass that task's calibration_table", missing);
        }
        // float I/O at the edges, unless the caller takes int8
        List<OperatorT> head = new ArrayList<>();
        for (int i = 0; i < inputs.size() && !int8Io; i++) {
            int q = inputs.get(i);
            int f = floatTwin(q);
            inputs.set(i, f);
            head.add(op(BuiltinOperator.QUANTIZE, BuiltinOptions.QuantizeOptions, new QuantizeOptionsT(), new int[] {f},
                    q));
        }
        List<OperatorT> tail = new ArrayList<>();
        for (int i = 0; i < outputs.size() && !int8Io; i++) {
            int q = outputs.get(i);
            int f = floatTwin(q);
            outputs.set(i, f);
            tail.add(op(BuiltinOperator.DEQUANTIZE, BuiltinOptions.DequantizeOptions, new DequantizeOptionsT(),
                    new int[] {q}, f));
        }
        operators.clear();
        operators.addAll(head);
        operators.addAll(rewritten);
        operators.addAll(tail);
        for (Map.Entry<Integer, Q> e : params.entrySet()) {
            TensorT t = tensors.get(e.getKey());
            if (t.getType() == TensorType.FLOAT32) {
                t.setType(TensorType.INT8);
            }
            QuantizationParametersT qp = new QuantizationParametersT();
            qp.setScale(e.getValue().scale());
            qp.setZeroPoint(e.getValue().zeroPoint());
            qp.setQuantizedDimension(e.getValue().axis());
            t.setQuantization(qp);
        }
        for (OperatorCodeT c : opcodes) {
            Integer v = INT8_VERSIONS.get(c.getBuiltinCode());
            if (v != null) {
                c.setVersion(Math.max(c.getVersion(), v));
            }
        }
        dropUnreferencedTensors();
        return notes;
    }

    /** The outputs of fused RELUs' producers are read by nothing now: drop them and renumber. */
    private void dropUnreferencedTensors() {
        boolean[] used = new boolean[tensors.size()];
        inputs.forEach(t -> used[t] = true);
        outputs.forEach(t -> used[t] = true);
        for (OperatorT op : operators) {
            for (int t : op.getInputs()) {
                if (t >= 0) {
                    used[t] = true;
                }
            }
            for (int t : op.getOutputs()) {
                used[t] = true;
            }
        }
        int[] index = new int[tensors.size()];
        List<TensorT> kept = new ArrayList<>();
        for (int t = 0; t < tensors.size(); t++) {
            index[t] = used[t] ? kept.size() : -1;
            if (used[t]) {
                kept.add(tensors.get(t));
            }
        }
        if (kept.size() == tensors.size()) {
            return;
        }
        tensors.clear();
        tensors.addAll(kept);
        for (OperatorT op : operators) {
            op.setInputs(java.util.Arrays.stream(op.getInputs()).map(t -> t < 0 ? t : index[t]).toArray());
            op.setOutputs(java.util.Arrays.stream(op.getOutputs()).map(t -> index[t]).toArray());
        }
        inputs.replaceAll(t -> index[t]);
        outputs.replaceAll(t -> index[t]);
    }

    private static String sample(Set<String> names) {
        if (names.isEmpty()) {
            return "";
        }
        List<String> first = names.stream().limit(5).toList();
        return ", e.g. " + first + (names.size() > first.size() ? " …" : "");
    }

    /** A float tensor standing for int8 tensor {@code q} at the graph's edge: it takes q's name, q gets "/int8". */
    private int floatTwin(int q) {
        TensorT src = tensors.get(q);
        TensorT f = new TensorT();
        f.setName(src.getName());
        f.setShape(src.getShape().clone());
        if (src.getShapeSignature() != null && src.getShapeSignature().length > 0) {
            f.setShapeSignature(src.getShapeSignature().clone());
        }
        f.setType(TensorType.FLOAT32);
        f.setBuffer(0);
        src.setName(src.getName() + "/int8");
        tensors.add(f);
        return tensors.size() - 1;
    }

    // ---- per op -------------------------------------------------------------------------------------------------

    private void quantizeOp(OperatorT op, List<OperatorT> rewritten) {
        int code = code(op);
        int[] in = op.getInputs();
        int out = op.getOutputs()[0];
        switch (code) {
            case BuiltinOperator.CONV_2D, BuiltinOperator.FULLY_CONNECTED -> weighted(op, 0);
            case BuiltinOperator.DEPTHWISE_CONV_2D -> weighted(op, 3);
            case BuiltinOperator.MAX_POOL_2D, BuiltinOperator.AVERAGE_POOL_2D, BuiltinOperator.RESHAPE,
                    BuiltinOperator.TRANSPOSE, BuiltinOperator.PAD, BuiltinOperator.MEAN, BuiltinOperator.SQUEEZE ->
                    params.put(out, activation(in[0]));
            case BuiltinOperator.RELU, BuiltinOperator.RELU6, BuiltinOperator.RELU_N1_TO_1 -> {
                Q x = activation(in[0]);
                if (ranges.containsKey(name(out))) {
                    params.put(out, rangeParams(out));
                } else {
                    // a RELU on its own: its range follows from its input's
                    float cap = code == BuiltinOperator.RELU ? Float.MAX_VALUE : code == BuiltinOperator.RELU6 ? 6 : 1;
                    float floor = code == BuiltinOperator.RELU_N1_TO_1 ? -1 : 0;
                    params.put(out, Q.of(QuantParams.of(Math.max(floor, x.lo()), Math.min(cap, x.hi()), QuantType.S8,
                            false)));
                }
            }
            case BuiltinOperator.MINIMUM, BuiltinOperator.MAXIMUM -> {
                int act = isConst(in[0]) ? in[1] : in[0];
                Q x = activation(act);
                for (int t : in) {
                    if (t != act) {
                        quantizeConst(t, x);
                    }
                }
                params.put(out, x);
            }
            case BuiltinOperator.CONCATENATION -> concat(op, rewritten);
            case BuiltinOperator.ADD, BuiltinOperator.SUB, BuiltinOperator.MUL, BuiltinOperator.LEAKY_RELU,
                    BuiltinOperator.HARD_SWISH -> {
                for (int t : in) {
                    activation(t);
                }
                params.put(out, rangeParams(out));
            }
            case BuiltinOperator.SOFTMAX, BuiltinOperator.LOGISTIC -> fixed(op, 1f / 256, -128);
            case BuiltinOperator.LOG_SOFTMAX -> fixed(op, 16f / 256, 127);
            case BuiltinOperator.TANH -> fixed(op, 1f / 128, 0);
            default -> unsupported.add(BuiltinOperator.name(code) + " '" + name(out) + "'");
        }
    }

    private void fixed(OperatorT op, float scale, int zeroPoint) {
        activation(op.getInputs()[0]);
        params.put(op.getOutputs()[0], new Q(new float[] {scale}, new long[] {zeroPoint}, 0));
    }

    /** Weights per output channel (axis), int32 bias at input scale × weight scale, output from the table. */
    private void weighted(OperatorT op, int axis) {
        int[] in = op.getInputs();
        Q x = activation(in[0]);
        TensorT w = tensors.get(in[1]);
        float[] wf = floats(in[1]);
        int[] shape = w.getShape();
        int channels = shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        float[] scale = new float[channels];
        for (int i = 0; i < wf.length; i++) {
            int c = (i / inner) % channels;
            scale[c] = Math.max(scale[c], Math.abs(wf[i]));
        }
        for (int c = 0; c < channels; c++) {
            scale[c] = scale[c] > 0 ? scale[c] / 127f : 1f; // an all-zero channel: any scale holds it exactly
        }
        byte[] q = new byte[wf.length];
        for (int i = 0; i < wf.length; i++) {
            int c = (i / inner) % channels;
            q[i] = (byte) Math.max(-127, Math.min(127, Math.round(wf[i] / scale[c])));
        }
        setBuffer(in[1], q);
        w.setType(TensorType.INT8);
        params.put(in[1], new Q(scale, new long[channels], axis));
        if (in.length > 2 && in[2] >= 0) {
            float[] bf = floats(in[2]);
            float[] bs = new float[channels];
            ByteBuffer b = ByteBuffer.allocate(bf.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int c = 0; c < channels; c++) {
                bs[c] = x.scale()[0] * scale[c];
                b.putInt((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, Math.rint(bf[c] / bs[c]))));
            }
            setBuffer(in[2], b.array());
            tensors.get(in[2]).setType(TensorType.INT32);
            params.put(in[2], new Q(bs, new long[channels], 0));
        }
        int out = op.getOutputs()[0];
        Byte fn = fusedActivation.get(op);
        CalibrationTable.Range r = ranges.get(name(out));
        if (fn != null && r != null) {
            // the table may hold the range before the activation (a MAX_POOL came between): clamp it
            double lo = r.min(), hi = r.max();
            lo = Math.max(lo, fn == ActivationFunctionType.RELU_N1_TO_1 ? -1 : 0);
            hi = fn == ActivationFunctionType.RELU6 ? Math.min(hi, 6) : fn == ActivationFunctionType.RELU_N1_TO_1
                    ? Math.min(hi, 1) : hi;
            params.put(out, Q.of(QuantParams.of(lo, Math.max(lo, hi), QuantType.S8, false)));
        } else {
            params.put(out, rangeParams(out));
        }
    }

    /** TFLite's int8 CONCATENATION needs one scale and zero point: the union range, inputs requantised to it. */
    private void concat(OperatorT op, List<OperatorT> rewritten) {
        int[] in = op.getInputs().clone();
        float lo = 0, hi = 0;
        for (int t : in) {
            if (!isConst(t)) {
                Q x = activation(t);
                lo = Math.min(lo, x.lo());
                hi = Math.max(hi, x.hi());
            }
        }
        Q y = Q.of(QuantParams.of(lo, hi, QuantType.S8, false));
        for (int i = 0; i < in.length; i++) {
            if (isConst(in[i])) {
                quantizeConst(in[i], y);
                continue;
            }
            Q x = params.get(in[i]);
            if (!x.sameAs(y)) {
                TensorT src = tensors.get(in[i]);
                TensorT r = new TensorT();
                r.setName(src.getName() + "/requantized");
                r.setShape(src.getShape().clone());
                r.setType(TensorType.INT8);
                r.setBuffer(0);
                tensors.add(r);
                int ri = tensors.size() - 1;
                params.put(ri, y);
                rewritten.add(op(BuiltinOperator.QUANTIZE, BuiltinOptions.QuantizeOptions, new QuantizeOptionsT(),
                        new int[] {in[i]}, ri));
                in[i] = ri;
            }
        }
        op.setInputs(in);
        params.put(op.getOutputs()[0], y);
    }

    /** The parameters of an op's input: an activation already assigned, or a float constant quantised on its own range. */
    private Q activation(int t) {
        Q q = params.get(t);
        if (q != null) {
            return q;
        }
        if (isConst(t)) {
            float[] v = floats(t);
            float lo = 0, hi = 0;
            for (float f : v) {
                lo = Math.min(lo, f);
                hi = Math.max(hi, f);
            }
            Q own = Q.of(QuantParams.of(lo, hi, QuantType.S8, false));
            quantizeConst(t, own);
            return own;
        }
        return rangeParams(t); // not reached for graphs the converter writes: every activation has a producer
    }

    private void quantizeConst(int t, Q q) {
        if (params.containsKey(t) || !isConst(t)) {
            return;
        }
        float[] v = floats(t);
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            long x = Math.round(Math.rint(v[i] / q.scale()[0])) + q.zeroPoint()[0];
            b[i] = (byte) Math.max(-128, Math.min(127, x));
        }
        setBuffer(t, b);
        tensors.get(t).setType(TensorType.INT8);
        params.put(t, q);
    }

    /** Asymmetric int8 parameters from the table's chosen range for this tensor (by name); collects misses. */
    private Q rangeParams(int t) {
        String name = name(t);
        CalibrationTable.Range r = ranges.get(name);
        if (r == null) {
            missing.add(name);
            return new Q(new float[] {1f}, new long[] {0}, 0);
        }
        return Q.of(QuantParams.of(r.min(), r.max(), QuantType.S8, false));
    }

    // ---- activation fusion --------------------------------------------------------------------------------------

    /** Layers whose output now has a fused activation: their output range is clamped to it. */
    private final Map<OperatorT, Byte> fusedActivation = new HashMap<>();

    /**
     * A RELU/RELU6/RELU_N1_TO_1 that alone reads a conv/FC output, or the output of a MAX_POOL_2D that alone reads
     * one, is fused into the layer.
     */
    private int fuseActivations() {
        Map<Integer, List<OperatorT>> readers = new HashMap<>();
        for (OperatorT op : operators) {
            for (int t : op.getInputs()) {
                if (t >= 0) {
                    readers.computeIfAbsent(t, k -> new ArrayList<>()).add(op);
                }
            }
        }
        int fused = 0;
        List<OperatorT> drop = new ArrayList<>();
        for (OperatorT op : operators) {
            int code = code(op);
            if (code != BuiltinOperator.CONV_2D && code != BuiltinOperator.DEPTHWISE_CONV_2D
                    && code != BuiltinOperator.FULLY_CONNECTED) {
                continue;
            }
            int out = op.getOutputs()[0];
            List<OperatorT> r = readers.getOrDefault(out, List.of());
            if (r.size() != 1 || outputs.contains(out)) {
                continue;
            }
            OperatorT act = r.get(0);
            OperatorT pool = null;
            if (code(act) == BuiltinOperator.MAX_POOL_2D) {
                // layer → MAX_POOL → RELU is layer+RELU → MAX_POOL: max pooling and a monotonic clamp commute, and
                // the RELU then costs nothing (no requantisation, no separate kernel)
                int pooled = act.getOutputs()[0];
                List<OperatorT> pr = readers.getOrDefault(pooled, List.of());
                if (pr.size() != 1 || outputs.contains(pooled)) {
                    continue;
                }
                pool = act;
                act = pr.get(0);
            }
            byte fn = switch (code(act)) {
                case BuiltinOperator.RELU -> ActivationFunctionType.RELU;
                case BuiltinOperator.RELU6 -> ActivationFunctionType.RELU6;
                case BuiltinOperator.RELU_N1_TO_1 -> ActivationFunctionType.RELU_N1_TO_1;
                default -> -1;
            };
            if (fn < 0) {
                continue;
            }
            Object o = op.getBuiltinOptions().getValue();
            if (o instanceof Conv2DOptionsT c) {
                c.setFusedActivationFunction(fn);
            } else if (o instanceof DepthwiseConv2DOptionsT c) {
                c.setFusedActivationFunction(fn);
            } else if (o instanceof FullyConnectedOptionsT c) {
                c.setFusedActivationFunction(fn);
            }
            if (pool == null) {
                op.setOutputs(act.getOutputs().clone());
            } else {
                pool.setOutputs(act.getOutputs().clone());
            }
            fusedActivation.put(op, fn);
            drop.add(act);
            fused++;
        }
        operators.removeAll(drop);
        return fused;
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private OperatorT op(int code, byte optionsType, Object options, int[] in, int out) {
        OperatorT op = new OperatorT();
        op.setOpcodeIndex(opcodeIndex.applyAsInt(code));
        op.setInputs(in);
        op.setOutputs(new int[] {out});
        BuiltinOptionsUnion u = new BuiltinOptionsUnion();
        u.setType(optionsType);
        u.setValue(options);
        op.setBuiltinOptions(u);
        return op;
    }

    private int code(OperatorT op) {
        return opcodes.get((int) op.getOpcodeIndex()).getBuiltinCode();
    }

    private String name(int t) {
        return tensors.get(t).getName();
    }

    private boolean isConst(int t) {
        TensorT tensor = tensors.get(t);
        return tensor.getBuffer() != 0 && tensor.getType() == TensorType.FLOAT32
                && buffers.get((int) tensor.getBuffer()).getData() != null
                && buffers.get((int) tensor.getBuffer()).getData().length > 0;
    }

    private float[] floats(int t) {
        int[] data = buffers.get((int) tensors.get(t).getBuffer()).getData();
        float[] out = new float[data.length / 4];
        for (int i = 0; i < out.length; i++) {
            int bits = data[4 * i] | data[4 * i + 1] << 8 | data[4 * i + 2] << 16 | data[4 * i + 3] << 24;
            out[i] = Float.intBitsToFloat(bits);
        }
        return out;
    }

    /** Gives the tensor its own buffer with these bytes (a buffer is never shared between float tensors here). */
    private void setBuffer(int t, byte[] bytes) {
        int[] d = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            d[i] = bytes[i] & 0xff;
        }
        BufferT b = new BufferT();
        b.setData(d);
        buffers.set((int) tensors.get(t).getBuffer(), b);
    }
}
