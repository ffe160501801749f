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
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxModel;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Runs the original and the converted model on the same inputs and measures how far their outputs are apart.
 * The inputs are the first {@value #DATASET_SAMPLES} samples of a dataset when one is given, else one synthetic
 * batch: float inputs uniform in [0, 1) from a fixed seed, integer and boolean inputs zeros (index 0 is valid for
 * any lookup), free dimensions sized as {@link SelfCheckShapes} says (never 2: a detector checked on a 2×2 image
 * proves nothing). Control flow (If, Loop, Scan) runs in ONNX Runtime like any node, so models with sub-graphs are
 * compared too. When the original cannot run on a synthetic batch, the check is skipped and says why.
 */
final class Verifier {
    static final long SEED = 42;
    static final int DATASET_BATCH = 8;
    static final int DATASET_SAMPLES = 32;
    static final String SYNTHETIC = "synthetic batch: float inputs uniform in [0, 1) (seed " + SEED
            + "), integer and boolean inputs zero; " + SelfCheckShapes.RULE;

    private Verifier() {}

    static ConversionReport.Verification compare(OrtEnvironment env, OnnxModel originalModel, Path original,
            Path converted, ConversionOptions check) throws IOException, OrtException {
        try (OrtSession.SessionOptions options = options();
                OrtSession before = OrtSessions.open(env, original, options)) {
            Map<String, long[]> declared = new LinkedHashMap<>();
            for (NodeInfo info : before.getInputInfo().values()) {
                declared.put(info.getName(), info.getInfo() instanceof TensorInfo t ? t.getShape() : new long[0]);
            }
            // with.shapes is checked against the model even when a dataset feeds the check: a wrong one is an error
            Map<String, long[]> shapes = SelfCheckShapes.resolve(declared, originalModel.graph().proto(), check.shapes());
            if (check.checkDataset().isPresent()) {
                try (OrtSession after = OrtSessions.open(env, converted, options)) {
                    return onDataset(env, before, after, check.checkDataset().get());
                }
            }
            Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
            try {
                Optional<String> unsupported = makeInputs(env, before.getInputInfo(), shapes, inputs);
                String how = SYNTHETIC + "; shapes " + describe(shapes);
                if (unsupported.isPresent()) {
                    return skipped(how, shapes, unsupported.get());
                }
                Map<String, double[]> expected;
                try (OrtSession.Result result = before.run(inputs)) {
                    expected = read(result);
                } catch (OrtException e) {
                    return skipped(how, shapes, "the original model does not run on a synthetic batch of shapes "
                            + describe(shapes) + " (" + firstLine(e) + "); give with.shapes the sizes it takes, or"
                            + " with.dataset");
                }
                Map<String, double[]> actual;
                try (OrtSession after = OrtSessions.open(env, converted, options);
                        OrtSession.Result result = after.run(inputs)) {
                    actual = read(result);
                } catch (OrtException e) {
                    throw new InvalidModelException("the converted model fails in ONNX Runtime where the original runs: "
                            + firstLine(e), e);
                }
                Diff diff = new Diff(before.getOutputInfo());
                diff.add(expected, actual);
                return diff.result(how, shapes, 1);
            } finally {
                inputs.values().forEach(OnnxTensor::close);
            }
        }
    }

    private static ConversionReport.Verification onDataset(OrtEnvironment env, OrtSession before, OrtSession after,
            Path dataset) throws IOException, OrtException {
        Diff diff = new Diff(before.getOutputInfo());
        Map<String, long[]> firstShapes = new LinkedHashMap<>();
        long samples = 0;
        try (DatasetReader reader = DatasetReader.open(dataset);
                DatasetFeed feed = DatasetFeed.open(env, before, reader, DATASET_BATCH, DATASET_SAMPLES)) {
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next()) {
                    if (firstShapes.isEmpty()) {
                        for (Map.Entry<String, OnnxTensor> e : batch.inputs().entrySet()) {
                            firstShapes.put(e.getKey(), e.getValue().getInfo().getShape());
                        }
                    }
                    Map<String, double[]> expected;
                    // through the feed: a stateful dataset carries each session's own state from step to step
                    try (OrtSession.Result result = batch.run(before, before.getOutputNames())) {
                        expected = read(result);
                    } catch (OrtException e) {
                        throw new InvalidModelException("the original model does not run on the self-check dataset"
                                + " (samples " + batch.firstSample() + " to " + (batch.firstSample() + batch.size() - 1)
                                + "): " + firstLine(e) + "; give with.dataset a dataset the model takes", e);
                    }
                    try (OrtSession.Result result = batch.run(after, before.getOutputNames())) {
                        diff.add(expected, read(result));
                    } catch (OrtException e) {
                        throw new InvalidModelException("the converted model fails in ONNX Runtime where the original"
                                + " runs: " + firstLine(e), e);
                    }
                    samples += batch.size();
                }
            }
        } catch (DatasetFormatException e) {
            throw new InvalidModelException("with.dataset cannot feed the self-check: " + e.getMessage(), e);
        }
        if (samples == 0) {
            throw new InvalidModelException("with.dataset holds no samples; give a dataset with at least one sample,"
                    + " or leave with.dataset out to check on a synthetic batch");
        }
        return diff.result("the dataset's first " + samples + " samples, in batches of up to " + DATASET_BATCH,
                firstShapes, samples);
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
        options.setIntraOpNumThreads(1);
        return options;
    }

    private static ConversionReport.Verification skipped(String how, Map<String, long[]> shapes, String why) {
        return new ConversionReport.Verification(false, why, how, asLists(shapes), 0, Map.of(), Map.of(), Map.of());
    }

    private static Map<String, List<Long>> asLists(Map<String, long[]> shapes) {
        Map<String, List<Long>> lists = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> lists.put(name, Arrays.stream(shape).boxed().toList()));
        return lists;
    }

    private static String describe(Map<String, long[]> shapes) {
        List<String> parts = new ArrayList<>();
        shapes.forEach((name, shape) -> parts.add(name + " " + Arrays.toString(shape)));
        return String.join(", ", parts);
    }

    private static Optional<String> makeInputs(OrtEnvironment env, Map<String, NodeInfo> infos,
            Map<String, long[]> shapes, Map<String, OnnxTensor> into) throws OrtException {
        Random random = new Random(SEED);
        for (NodeInfo info : infos.values()) {
            if (!(info.getInfo() instanceof TensorInfo tensor)) {
                return Optional.of("input '" + info.getName() + "' is not a tensor");
            }
            long[] shape = shapes.get(info.getName());
            long count = 1;
            for (long d : shape) {
                count *= d;
            }
            if (count > 64L * 1024 * 1024) {
                return Optional.of("input '" + info.getName() + "' would hold " + count + " values at "
                        + Arrays.toString(shape) + "; give smaller sizes in with.shapes");
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

    /** The largest differences over all batches compared. */
    private static final class Diff {
        private final Map<String, Boolean> isFloat = new HashMap<>();
        private final Map<String, Double> maxAbs = new LinkedHashMap<>();
        private final Map<String, Double> maxRel = new LinkedHashMap<>();
        private final Map<String, Long> mismatched = new LinkedHashMap<>();

        Diff(Map<String, NodeInfo> outputs) {
            outputs.values().forEach(info -> isFloat.put(info.getName(), info.getInfo() instanceof TensorInfo t
                    && (t.type == OnnxJavaType.FLOAT || t.type == OnnxJavaType.DOUBLE || t.type == OnnxJavaType.FLOAT16
                            || t.type == OnnxJavaType.BFLOAT16)));
        }

        void add(Map<String, double[]> expected, Map<String, double[]> actual) {
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
                    double rel = Double.isInfinite(worst) ? worst : worst / Math.max(magnitude, 1e-12);
                    maxAbs.merge(e.getKey(), worst, Math::max);
                    maxRel.merge(e.getKey(), rel, Math::max);
                } else {
                    long differing = 0;
                    for (int i = 0; i < a.length; i++) {
                        if (a[i] != b[i]) {
                            differing++;
                        }
                    }
                    mismatched.merge(e.getKey(), differing, Long::sum);
                }
            }
        }

        ConversionReport.Verification result(String how, Map<String, long[]> shapes, long samples) {
            if (maxAbs.isEmpty() && mismatched.isEmpty()) {
                return new ConversionReport.Verification(false, "the model has no tensor output to compare", how,
                        asLists(shapes), samples, Map.of(), Map.of(), Map.of());
            }
            return new ConversionReport.Verification(true, null, how, asLists(shapes), samples, maxAbs, maxRel,
                    mismatched);
        }
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
