package dev.anvil.modelkit.convert;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OrtSessions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Runs the original and the converted model on one synthetic batch and measures how far their outputs
 * are apart. Float inputs are uniform in [0, 1) from a fixed seed; integer and boolean inputs are zeros
 * (index 0 is valid for any lookup); free dimensions are {@value #FREE_DIM}.
 */
final class Verifier {
    static final long FREE_DIM = 2;
    static final long SEED = 42;
    static final String INPUTS = "synthetic batch: float inputs uniform in [0, 1) (seed " + SEED
            + "), integer and boolean inputs zero, free dimensions " + FREE_DIM;

    private Verifier() {}

    static ConversionReport.Verification compare(OrtEnvironment env, Path original, Path converted)
            throws IOException, OrtException {
        try (OrtSession.SessionOptions options = options();
                OrtSession before = OrtSessions.open(env, original, options)) {
            Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
            try {
                Optional<String> unsupported = makeInputs(env, before.getInputInfo(), inputs);
                if (unsupported.isPresent()) {
                    return skipped(unsupported.get());
                }
                Map<String, double[]> expected;
                try (OrtSession.Result result = before.run(inputs)) {
                    expected = read(result);
                } catch (OrtException e) {
                    return skipped("the original model does not run on a synthetic batch (" + firstLine(e) + ")");
                }
                Map<String, double[]> actual;
                try (OrtSession after = OrtSessions.open(env, converted, options);
                        OrtSession.Result result = after.run(inputs)) {
                    actual = read(result);
                } catch (OrtException e) {
                    throw new InvalidModelException("the converted model fails in ONNX Runtime where the original runs: "
                            + firstLine(e), e);
                }
                return diff(expected, actual, before.getOutputInfo());
            } finally {
                inputs.values().forEach(OnnxTensor::close);
            }
        }
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
        options.setIntraOpNumThreads(1);
        return options;
    }

    private static ConversionReport.Verification skipped(String why) {
        return new ConversionReport.Verification(INPUTS, Map.of(), Map.of(), Map.of(), why);
    }

    private static Optional<String> makeInputs(OrtEnvironment env, Map<String, NodeInfo> infos, Map<String, OnnxTensor> into)
            throws OrtException {
        Random random = new Random(SEED);
        for (NodeInfo info : infos.values()) {
            if (!(info.getInfo() instanceof TensorInfo tensor)) {
                return Optional.of("input '" + info.getName() + "' is not a tensor");
            }
            long[] shape = tensor.getShape().clone();
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = FREE_DIM;
                }
                count *= shape[i];
            }
            if (count > 64L * 1024 * 1024) {
                return Optional.of("input '" + info.getName() + "' would hold " + count + " values");
            }
            int n = (int) count;
            OnnxJavaType type = tensor.type;
            OnnxTensor value = switch (type) {
                case FLOAT -> {
                    FloatBuffer b = FloatBuffer.allocate(n);
                    for (int i = 0; i < n; i++) {
                        b.put(random.nextFloat());
                    }
                    yield OnnxTensor.createTensor(env, b.flip(), shape);
                }
                case DOUBLE -> {
                    DoubleBuffer b = DoubleBuffer.allocate(n);
                    for (int i = 0; i < n; i++) {
                        b.put(random.nextDouble());
                    }
                    yield OnnxTensor.createTensor(env, b.flip(), shape);
                }
                case FLOAT16 -> {
                    ShortBuffer b = ShortBuffer.allocate(n);
                    for (int i = 0; i < n; i++) {
                        b.put(Fp16Conversions.floatToFp16(random.nextFloat()));
                    }
                    yield OnnxTensor.createTensor(env, b.flip(), shape, OnnxJavaType.FLOAT16);
                }
                case INT64 -> OnnxTensor.createTensor(env, LongBuffer.allocate(n), shape);
                case INT32 -> OnnxTensor.createTensor(env, IntBuffer.allocate(n), shape);
                case INT8, UINT8, BOOL, INT16 -> OnnxTensor.createTensor(env,
                        ByteBuffer.allocateDirect(n * (type == OnnxJavaType.INT16 ? 2 : 1)).order(ByteOrder.nativeOrder()),
                        shape, type);
                default -> null;
            };
            if (value == null) {
                return Optional.of("input '" + info.getName() + "' has type " + type);
            }
            into.put(info.getName(), value);
        }
        return Optional.empty();
    }

    /** Every tensor output as doubles (NaN and infinities kept); non-tensor outputs are left out. */
    private static Map<String, double[]> read(OrtSession.Result result) throws OrtException {
        Map<String, double[]> values = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : result) {
            if (!(e.getValue() instanceof OnnxTensor tensor)) {
                continue;
            }
            TensorInfo info = tensor.getInfo();
            int n = (int) info.getNumElements();
            double[] out = new double[n];
            switch (info.type) {
                case FLOAT, FLOAT16, BFLOAT16 -> {
                    FloatBuffer b = tensor.getFloatBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = b.get(i);
                    }
                }
                case DOUBLE -> {
                    DoubleBuffer b = tensor.getDoubleBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = b.get(i);
                    }
                }
                case INT64 -> {
                    LongBuffer b = tensor.getLongBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = b.get(i);
                    }
                }
                case INT32 -> {
                    IntBuffer b = tensor.getIntBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = b.get(i);
                    }
                }
                case INT8, UINT8, BOOL -> {
                    ByteBuffer b = tensor.getByteBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = b.get(i);
                    }
                }
                default -> {
                    continue;
                }
            }
            values.put(e.getKey(), out);
        }
        return values;
    }

    private static ConversionReport.Verification diff(Map<String, double[]> expected, Map<String, double[]> actual,
            Map<String, NodeInfo> outputs) {
        Map<String, Double> maxAbs = new LinkedHashMap<>();
        Map<String, Double> maxRel = new LinkedHashMap<>();
        Map<String, Long> mismatched = new LinkedHashMap<>();
        Map<String, Boolean> isFloat = new HashMap<>();
        outputs.values().forEach(info -> isFloat.put(info.getName(), info.getInfo() instanceof TensorInfo t
                && (t.type == OnnxJavaType.FLOAT || t.type == OnnxJavaType.DOUBLE || t.type == OnnxJavaType.FLOAT16
                        || t.type == OnnxJavaType.BFLOAT16)));
        for (Map.Entry<String, double[]> e : expected.entrySet()) {
            double[] a = e.getValue();
            double[] b = actual.get(e.getKey());
            if (b == null || b.length != a.length) {
                throw new InvalidModelException("the converted model's output '" + e.getKey() + "' "
                        + (b == null ? "is missing" : "has " + b.length + " values instead of " + a.length));
            }
            if (isFloat.getOrDefault(e.getKey(), false)) {
                double worst = 0;
                double magnitude = 0;
                for (int i = 0; i < a.length; i++) {
                    if (Double.isFinite(a[i])) {
                        magnitude = Math.max(magnitude, Math.abs(a[i]));
                    }
                    worst = Math.max(worst, distance(a[i], b[i]));
                }
                maxAbs.put(e.getKey(), worst);
                maxRel.put(e.getKey(), Double.isInfinite(worst) ? worst : worst / Math.max(magnitude, 1e-12));
            } else {
                long differing = 0;
                for (int i = 0; i < a.length; i++) {
                    if (a[i] != b[i]) {
                        differing++;
                    }
                }
                mismatched.put(e.getKey(), differing);
            }
        }
        return new ConversionReport.Verification(INPUTS, maxAbs, maxRel, mismatched, null);
    }

    /** |a - b|, with equal values (infinities included) and NaN against NaN at 0, and NaN against a number infinite. */
    private static double distance(double a, double b) {
        if (a == b || Double.isNaN(a) && Double.isNaN(b)) {
            return 0;
        }
        if (Double.isNaN(a) || Double.isNaN(b) || Double.isInfinite(a) || Double.isInfinite(b)) {
            return Double.POSITIVE_INFINITY;
        }
        return Math.abs(a - b);
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
