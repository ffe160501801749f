package dev.anvil.modelkit.tflite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.tensorflowlite.BuiltinOpResolver;
import org.bytedeco.tensorflowlite.FlatBufferModel;
import org.bytedeco.tensorflowlite.Interpreter;
import org.bytedeco.tensorflowlite.InterpreterBuilder;
import org.bytedeco.tensorflowlite.TfLiteIntArray;
import org.bytedeco.tensorflowlite.TfLiteQuantizationParams;
import org.bytedeco.tensorflowlite.TfLiteTensor;
import org.bytedeco.tensorflowlite.global.tensorflowlite;

/**
 * A .tflite model in the TFLite interpreter (JavaCPP build of TensorFlow Lite) with any number of typed inputs and
 * outputs, described from the interpreter's own tensors. One interpreter per model: {@link #run} is synchronized,
 * because an interpreter holds its tensors in place and cannot run two inputs at once.
 */
public final class TfliteModel implements AutoCloseable {
    /** The flatbuffer file identifier every TFLite model carries at bytes 4–7. */
    public static final String IDENTIFIER = "TFL3";

    /** TFLite element types the model may use in its inputs and outputs, with their TFLite codes and widths. */
    public enum DType {
        FLOAT32(tensorflowlite.kTfLiteFloat32, 4), FLOAT16(tensorflowlite.kTfLiteFloat16, 2),
        INT8(tensorflowlite.kTfLiteInt8, 1), UINT8(tensorflowlite.kTfLiteUInt8, 1), INT16(tensorflowlite.kTfLiteInt16, 2),
        INT32(tensorflowlite.kTfLiteInt32, 4), INT64(tensorflowlite.kTfLiteInt64, 8), BOOL(tensorflowlite.kTfLiteBool, 1);

        final int code;
        public final int bytes;

        DType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }

        static DType of(int code, String tensor) {
            for (DType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new InvalidTfliteModelException("tensor '" + tensor + "' has TFLite type " + code
                    + ", which is not one of " + Arrays.toString(values()));
        }
    }

    /**
     * An input or output: shape is the declared signature, -1 where a dimension may take any size (a dynamic
     * batch). scale and zeroPoint are the tensor's affine quantisation (scale 0 when it is not quantised).
     */
    public record Tensor(String name, DType type, int[] shape, float scale, int zeroPoint) {
        public boolean quantized() {
            return scale != 0;
        }
    }

    /** One output of a run: its data in native byte order. */
    public record Value(String name, DType type, int[] shape, ByteBuffer data) {
    }

    private final FlatBufferModel model;
    private final BuiltinOpResolver resolver;
    private final Interpreter interpreter;
    private final int[] inputIndex;
    private final int[] outputIndex;
    private final List<Tensor> inputs;
    private final List<Tensor> outputs;

    private TfliteModel(Path file, int threads) {
        String name = file.getFileName().toString();
        model = FlatBufferModel.VerifyAndBuildFromFile(file.toAbsolutePath().toString());
        if (model == null || model.isNull()) {
            throw new InvalidTfliteModelException(name + " is not a valid TFLite model: its flatbuffer failed"
                    + " the TFLite verifier (truncated or corrupt); compile the model again");
        }
        resolver = new BuiltinOpResolver();
        interpreter = new Interpreter((org.bytedeco.javacpp.Pointer) null);
        try {
            InterpreterBuilder builder = new InterpreterBuilder(model, resolver);
            if (builder.apply(interpreter, threads) != tensorflowlite.kTfLiteOk || interpreter.isNull()) {
                throw new InvalidTfliteModelException("the TFLite interpreter refused " + name
                        + " (an operator it does not know, or inconsistent tensors)");
            }
            if (interpreter.AllocateTensors() != tensorflowlite.kTfLiteOk) {
                throw new InvalidTfliteModelException("the TFLite interpreter cannot allocate the tensors of " + name);
            }
            inputIndex = indices(interpreter.inputs());
            outputIndex = indices(interpreter.outputs());
            inputs = describe(inputIndex);
            outputs = describe(outputIndex);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Loads a .tflite file, refusing a file without the TFLite identifier or one whose flatbuffer the TFLite
     * verifier rejects with {@link InvalidTfliteModelException}.
     */
    public static TfliteModel open(Path file, int threads) throws IOException {
        if (!isTflite(file)) {
            throw new InvalidTfliteModelException(file.getFileName() + " is not a TFLite model: its bytes 4-7 are not"
                    + " the flatbuffer identifier \"" + IDENTIFIER + "\"");
        }
        return new TfliteModel(file, threads);
    }

    /** True when the file starts like a TFLite flatbuffer (identifier "TFL3" at bytes 4–7). */
    public static boolean isTflite(Path file) throws IOException {
        byte[] head = new byte[8];
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(head, 0, 8) == 8 && isTflite(head);
        }
    }

    /** True when the first 8 bytes carry the TFLite flatbuffer identifier. */
    public static boolean isTflite(byte[] head) {
        return head.length >= 8 && new String(head, 4, 4, StandardCharsets.US_ASCII).equals(IDENTIFIER);
    }

    public List<Tensor> inputs() {
        return inputs;
    }

    public List<Tensor> outputs() {
        return outputs;
    }

    /**
     * Runs one set of inputs (in {@link #inputs()} order, each its bytes and its shape) and returns every output.
     * A shape that differs from the current one resizes the input first (a dynamic batch).
     */
    public synchronized List<Value> run(List<ByteBuffer> data, List<int[]> shapes) {
        if (data.size() != inputIndex.length || shapes.size() != inputIndex.length) {
            throw new IllegalArgumentException("the model takes " + inputIndex.length + " inputs, got " + data.size());
        }
        boolean resized = false;
        for (int i = 0; i < inputIndex.length; i++) {
            if (!Arrays.equals(dims(interpreter.tensor(inputIndex[i]).dims()), shapes.get(i))) {
                check(interpreter.ResizeInputTensor(inputIndex[i], shapes.get(i)), "resize input '"
                        + inputs.get(i).name() + "' to " + Arrays.toString(shapes.get(i)));
                resized = true;
            }
        }
        if (resized) {
            check(interpreter.AllocateTensors(), "allocate tensors for the new input shapes");
        }
        for (int i = 0; i < inputIndex.length; i++) {
            TfLiteTensor t = interpreter.tensor(inputIndex[i]);
            ByteBuffer in = data.get(i);
            long want = tensorflowlite.TfLiteTensorByteSize(t);
            if (in.remaining() != want) {
                throw new IllegalArgumentException("input '" + inputs.get(i).name() + "' has " + in.remaining()
                        + " bytes, its shape " + Arrays.toString(shapes.get(i)) + " needs " + want);
            }
            try (BytePointer p = new BytePointer(in.remaining())) {
                byte[] bytes = new byte[in.remaining()];
                in.duplicate().get(bytes);
                p.put(bytes);
                check(tensorflowlite.TfLiteTensorCopyFromBuffer(t, p, want), "copy input '" + inputs.get(i).name() + "'");
            }
        }
        check(interpreter.Invoke(), "run the model");
        List<Value> values = new ArrayList<>(outputIndex.length);
        for (int o = 0; o < outputIndex.length; o++) {
            TfLiteTensor t = interpreter.tensor(outputIndex[o]);
            long size = tensorflowlite.TfLiteTensorByteSize(t);
            byte[] bytes = new byte[(int) size];
            try (BytePointer p = new BytePointer(size)) {
                check(tensorflowlite.TfLiteTensorCopyToBuffer(t, p, size), "read output '" + outputs.get(o).name() + "'");
                p.get(bytes);
            }
            ByteBuffer out = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
            out.put(bytes).flip();
            values.add(new Value(outputs.get(o).name(), outputs.get(o).type(), dims(t.dims()), out));
        }
        return values;
    }

    private List<Tensor> describe(int[] indices) {
        List<Tensor> list = new ArrayList<>();
        for (int index : indices) {
            TfLiteTensor t = interpreter.tensor(index);
            BytePointer n = t.name();
            String name = n == null || n.isNull() ? "tensor_" + index : n.getString();
            TfLiteIntArray signature = t.dims_signature();
            int[] shape = signature == null || signature.isNull() || signature.size() == 0 ? dims(t.dims()) : dims(signature);
            TfLiteQuantizationParams q = t.params();
            list.add(new Tensor(name, DType.of(t.type(), name), shape, q.scale(), q.zero_point()));
        }
        return List.copyOf(list);
    }

    private static int[] dims(TfLiteIntArray a) {
        int[] d = new int[a.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.data(i);
        }
        return d;
    }

    private static int[] indices(IntPointer p) {
        int[] out = new int[(int) p.limit()];
        p.get(out);
        return out;
    }

    private static void check(int status, String what) {
        if (status != tensorflowlite.kTfLiteOk) {
            throw new IllegalStateException("TFLite could not " + what + " (status " + status + ")");
        }
    }

    @Override
    public void close() {
        if (interpreter != null) {
            interpreter.close();
        }
        if (resolver != null) {
            resolver.close();
        }
        if (model != null) {
            model.close();
        }
    }
}
