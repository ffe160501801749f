package dev.anvil.modelkit.compile;

import java.nio.file.Path;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.tensorflowlite.BuiltinOpResolver;
import org.bytedeco.tensorflowlite.FlatBufferModel;
import org.bytedeco.tensorflowlite.Interpreter;
import org.bytedeco.tensorflowlite.InterpreterBuilder;
import org.bytedeco.tensorflowlite.TfLiteQuantizationParams;
import org.bytedeco.tensorflowlite.TfLiteTensor;
import org.bytedeco.tensorflowlite.global.tensorflowlite;

/**
 * The real TFLite interpreter (JavaCPP build of TensorFlow Lite) over a .tflite file with one input and float32 outputs,
 * or, for a full-integer model with int8 I/O, an int8 input and output: the runner then quantises the float input
 * with the input tensor's scale and zero point and dequantises output 0 with the output's, as a caller of such a model
 * does. Not thread-safe: one runner per thread.
 */
public final class TfliteRunner implements AutoCloseable {
    private final FlatBufferModel model;
    private final BuiltinOpResolver resolver;
    private final Interpreter interpreter;
    private int[] inputShape;

    /** Loads the model; {@code threads} is the interpreter's CPU threads. */
    public TfliteRunner(Path file, int threads) {
        model = FlatBufferModel.BuildFromFile(file.toAbsolutePath().toString());
        if (model == null || model.isNull()) {
            throw new IllegalArgumentException("TFLite cannot load " + file.getFileName()
                    + ": not a valid TFLite flatbuffer");
        }
        resolver = new BuiltinOpResolver();
        interpreter = new Interpreter((org.bytedeco.javacpp.Pointer) null);
        InterpreterBuilder builder = new InterpreterBuilder(model, resolver);
        if (builder.apply(interpreter, threads) != tensorflowlite.kTfLiteOk) {
            throw new IllegalArgumentException("the TFLite interpreter refused " + file.getFileName());
        }
        check(interpreter.AllocateTensors(), "AllocateTensors");
    }

    /** Runs one input of the given shape (row-major, the layout the .tflite declares) and returns output 0. */
    public float[] run(float[] input, int[] shape) {
        if (inputShape == null || !java.util.Arrays.equals(inputShape, shape)) {
            check(interpreter.ResizeInputTensor(interpreter.inputs().get(0), shape), "ResizeInputTensor");
            check(interpreter.AllocateTensors(), "AllocateTensors");
            inputShape = shape.clone();
        }
        TfLiteTensor inTensor = interpreter.input_tensor(0);
        if (inTensor.type() == tensorflowlite.kTfLiteInt8) {
            TfLiteQuantizationParams p = inTensor.params();
            byte[] q = new byte[input.length];
            for (int i = 0; i < q.length; i++) {
                q[i] = quantize(input[i], p.scale(), p.zero_point());
            }
            inTensor.data().int8().put(q, 0, q.length);
        } else {
            FloatPointer in = interpreter.typed_input_tensor_float(0);
            in.put(input, 0, input.length);
        }
        check(interpreter.Invoke(), "Invoke");
        TfLiteTensor outTensor = interpreter.output_tensor(0);
        long bytes = tensorflowlite.TfLiteTensorByteSize(outTensor);
        if (outTensor.type() == tensorflowlite.kTfLiteInt8) {
            TfLiteQuantizationParams p = outTensor.params();
            byte[] q = new byte[(int) bytes];
            outTensor.data().int8().get(q);
            float[] out = new float[q.length];
            for (int i = 0; i < q.length; i++) {
                out[i] = (q[i] - p.zero_point()) * p.scale();
            }
            return out;
        }
        float[] out = new float[(int) (bytes / 4)];
        interpreter.typed_output_tensor_float(0).get(out);
        return out;
    }

    /** {@code round(x / scale) + zeroPoint}, clamped to int8 (TFLite's QUANTIZE, round half away from zero). */
    static byte quantize(float x, float scale, int zeroPoint) {
        double v = (double) x / scale;
        long q = (long) (Math.signum(v) * Math.floor(Math.abs(v) + 0.5)) + zeroPoint;
        return (byte) Math.max(-128, Math.min(127, q));
    }

    /** Whether the model takes int8 (a full-integer model with int8 I/O). */
    public boolean int8Input() {
        return interpreter.input_tensor(0).type() == tensorflowlite.kTfLiteInt8;
    }

    private static void check(int status, String what) {
        if (status != tensorflowlite.kTfLiteOk) {
            throw new IllegalStateException("TFLite " + what + " failed (status " + status + ")");
        }
    }

    @Override
    public void close() {
        interpreter.close();
        resolver.close();
        model.close();
    }
}
