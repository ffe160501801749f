package dev.anvil.modelkit.compile;

import java.nio.file.Path;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.tensorflowlite.BuiltinOpResolver;
import org.bytedeco.tensorflowlite.FlatBufferModel;
import org.bytedeco.tensorflowlite.Interpreter;
import org.bytedeco.tensorflowlite.InterpreterBuilder;
import org.bytedeco.tensorflowlite.global.tensorflowlite;

/**
 * The real TFLite interpreter (JavaCPP build of TensorFlow Lite) over a .tflite file with one float32 input and
 * float32 outputs. Not thread-safe: one runner per thread.
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
        FloatPointer in = interpreter.typed_input_tensor_float(0);
        in.put(input, 0, input.length);
        check(interpreter.Invoke(), "Invoke");
        long bytes = tensorflowlite.TfLiteTensorByteSize(interpreter.output_tensor(0));
        float[] out = new float[(int) (bytes / 4)];
        interpreter.typed_output_tensor_float(0).get(out);
        return out;
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
