package dev.anvil.modelkit.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static dev.anvil.modelkit.compile.TfliteOpsTest.f;
import static dev.anvil.modelkit.compile.TfliteOpsTest.i;
import static dev.anvil.modelkit.compile.TfliteOpsTest.ints;
import static dev.anvil.modelkit.compile.TfliteOpsTest.model;
import static dev.anvil.modelkit.compile.TfliteOpsTest.node;
import static dev.anvil.modelkit.compile.TfliteOpsTest.value;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.quantize.CalibrationMethod;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.modelkit.quantize.Calibrator;
import dev.anvil.modelkit.quantize.ModelQuantizer;
import dev.anvil.modelkit.quantize.QuantizationPlan;
import dev.anvil.modelkit.quantize.QuantizeOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Full-integer TFLite of a block with a folded BatchNormalization, LeakyRelu, a residual Add, a per-channel Mul and
 * HardSwish between the layers, from a table measured as the quantize operator measures it
 * ({@link ModelQuantizer#calibrationTensors}): it compiles and agrees with ONNX Runtime FP32 in the interpreter, while
 * a table of the ONNX plan's tensors alone is refused naming what it lacks; and the extra tensors leave the ONNX INT8
 * model byte for byte as it was.
 */
class TfliteInt8ElementwiseTest {
    @TempDir
    Path dir;
    final Random random = new Random(11);
    final QuantizeOptions options = QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX);

    @Test
    void addMulLeakyReluHardSwishAndAFoldedBatchNormCompileToInt8FromTheQuantizeTable() throws Exception {
        Path onnx = dir.resolve("block.onnx");
        OnnxModel.of(block()).write(onnx);
        Path calibration = dir.resolve("calibration.zip");
        List<float[]> calibrationSamples = gaussian(200, 3 * 8 * 8);
        write(calibration, calibrationSamples);

        OnnxModel model = OnnxModel.read(onnx);
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        Set<String> measured = ModelQuantizer.calibrationTensors(model, plan);
        // the TFLite writer's tensors on top of the ONNX plan's: the folded BatchNormalization's output, the Relu after
        // it, LeakyRelu, Add, Mul, HardSwish
        assertThat(measured).containsAll(plan.activationTensors())
                .contains("x", "bn1", "r1", "lr", "a", "m", "h");
        CalibrationTable full = calibrate(model, measured, calibration);
        CalibrationTable onnxOnly = calibrate(model, plan.activationTensors(), calibration);

        // the ONNX plan's tensors alone do not cover the TFLite INT8 model: refused naming the tensors
        assertThatThrownBy(() -> TfliteConverter.convertInt8(OnnxModel.read(onnx), onnxOnly))
                .isInstanceOf(TfliteInt8Quantizer.MissingRangesException.class)
                .hasMessageContaining("the calibration table has no range for")
                .satisfies(e -> assertThat(((TfliteInt8Quantizer.MissingRangesException) e).missing())
                        .contains("a", "m", "h"));

        TfliteConverter.Result r = TfliteConverter.convertInt8(OnnxModel.read(onnx), full);
        Path tfl = dir.resolve("block_int8.tflite");
        Files.write(tfl, r.flatbuffer());
        List<float[]> evaluation = gaussian(300, 3 * 8 * 8);
        TfliteVerifier.Report rep = TfliteVerifier.compare(onnx, tfl, evaluation, new int[] {1, 3, 8, 8}, null);
        Path fp32 = dir.resolve("block_fp32.tflite");
        Files.write(fp32, TfliteConverter.convert(OnnxModel.read(onnx), TfliteConverter.Precision.FLOAT32).flatbuffer());
        float[] span = outputSpan(onnx, evaluation);
        System.out.printf("int8 block: ops %s, notes %s, size %d B (float32 %d B), samples %d, agreement %.3f, max abs"
                + " error %.4g (outputs span %.3g..%.3g)%n", r.tfliteOps(), r.notes(), Files.size(tfl),
                Files.size(fp32), rep.samples(), rep.top1Agreement(), rep.maxAbsError(), span[0], span[1]);
        assertThat(r.tfliteOps()).containsKeys("ADD", "MUL", "LEAKY_RELU", "HARD_SWISH", "CONV_2D", "FULLY_CONNECTED")
                .doesNotContainKey("RELU"); // the Relu after the folded BatchNormalization is fused into the Conv
        assertThat(r.notes()).anyMatch(n -> n.contains("BatchNormalization 'BatchNormalization_bn1' folded"));
        // int8 against float: most top-1s agree; the largest error is a few percent of the outputs' span
        assertThat(rep.top1Agreement()).isGreaterThan(0.9);
        assertThat(rep.maxAbsError()).isLessThan(0.08 * (span[1] - span[0]));
    }

    @Test
    void theExtraTensorsLeaveTheOnnxInt8ModelUnchanged() throws Exception {
        Path onnx = dir.resolve("block.onnx");
        OnnxModel.of(block()).write(onnx);
        Path calibration = dir.resolve("calibration.zip");
        write(calibration, gaussian(100, 3 * 8 * 8));
        OnnxModel model = OnnxModel.read(onnx);
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        CalibrationTable onnxOnly = calibrate(model, plan.activationTensors(), calibration);
        CalibrationTable full = calibrate(model, ModelQuantizer.calibrationTensors(model, plan), calibration);
        for (String t : plan.activationTensors()) {
            assertThat(full.tensors().get(t)).as(t).isEqualTo(onnxOnly.tensors().get(t));
        }
        assertThat(full.tensors().size()).isGreaterThan(onnxOnly.tensors().size());
        assertThat(quantized(onnx, onnxOnly)).isEqualTo(quantized(onnx, full));
    }

    @Test
    void aModelTfliteCannotTakeAddsNothingToCalibrate() {
        GraphProto.Builder g = GraphProto.newBuilder().setName("div");
        g.addInput(value("x", 1, 4));
        g.addNode(node("Relu", List.of("x"), "r"));
        g.addNode(node("Div", List.of("x", "r"), "y"));
        g.addOutput(value("y", 1, 4));
        assertThat(TfliteConverter.int8RangeTensors(OnnxModel.of(model(g, 13)))).isEmpty();
    }

    /**
     * x → Conv → BatchNormalization (folded) → Relu → Conv → LeakyRelu → Add (residual, with the Relu) → Mul (per
     * channel) → HardSwish → GlobalAveragePool → Flatten → Gemm.
     */
    private ModelProto block() {
        GraphProto.Builder g = GraphProto.newBuilder().setName("block");
        g.addInput(value("x", 1, 3, 8, 8));
        g.addInitializer(weights("w1", 6, 3, 3, 3)).addInitializer(weights("b1", 6));
        g.addNode(node("Conv", List.of("x", "w1", "b1"), "c1", ints("pads", 1, 1, 1, 1)));
        g.addInitializer(positive("bn_s", 6)).addInitializer(weights("bn_b", 6)).addInitializer(weights("bn_m", 6))
                .addInitializer(positive("bn_v", 6));
        g.addNode(node("BatchNormalization", List.of("c1", "bn_s", "bn_b", "bn_m", "bn_v"), "bn1"));
        g.addNode(node("Relu", List.of("bn1"), "r1"));
        g.addInitializer(weights("w2", 6, 6, 3, 3));
        g.addNode(node("Conv", List.of("r1", "w2"), "c2", ints("pads", 1, 1, 1, 1)));
        g.addNode(node("LeakyRelu", List.of("c2"), "lr", f("alpha", 0.1f)));
        g.addNode(node("Add", List.of("lr", "r1"), "a"));
        g.addInitializer(positive("scale", 1, 6, 1, 1));
        g.addNode(node("Mul", List.of("a", "scale"), "m"));
        g.addNode(node("HardSwish", List.of("m"), "h"));
        g.addNode(node("GlobalAveragePool", List.of("h"), "gap"));
        g.addNode(node("Flatten", List.of("gap"), "flat"));
        g.addInitializer(weights("fc", 5, 6)).addInitializer(weights("fcb", 5));
        g.addNode(node("Gemm", List.of("flat", "fc", "fcb"), "y", i("transB", 1)));
        g.addOutput(value("y", 1, 5));
        return model(g, 14); // HardSwish is opset 14
    }

    private CalibrationTable calibrate(OnnxModel model, Set<String> tensors, Path data) throws Exception {
        try (DatasetReader reader = DatasetReader.open(data)) {
            return new Calibrator(OrtEnvironment.getEnvironment()).calibrate(model, "block", tensors, reader, options,
                    Optional.empty(), (d, t, s) -> {}).table();
        }
    }

    private byte[] quantized(Path onnx, CalibrationTable table) throws Exception {
        OnnxModel m = OnnxModel.read(onnx);
        ModelQuantizer.applyStatic(m, ModelQuantizer.plan(m, options), table, options);
        Path out = Files.createTempFile(dir, "q", ".onnx");
        m.write(out);
        return Files.readAllBytes(out);
    }

    private static float[] outputSpan(Path onnx, List<float[]> samples) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        try (var session = env.createSession(onnx.toString())) {
            for (float[] x : samples) {
                try (var t = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x),
                        new long[] {1, 3, 8, 8}); var r = session.run(Map.of("x", t))) {
                    for (float v : ((float[][]) r.get(0).getValue())[0]) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                }
            }
        }
        return new float[] {lo, hi};
    }

    private static void write(Path file, List<float[]> samples) throws Exception {
        int per = samples.get(0).length;
        float[] all = new float[samples.size() * per];
        for (int s = 0; s < samples.size(); s++) {
            System.arraycopy(samples.get(s), 0, all, s * per, per);
        }
        DatasetWriter.write(file, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {samples.size(), 3, 8, 8}, all)),
                Optional.empty()));
    }

    private List<float[]> gaussian(int count, int n) {
        List<float[]> samples = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            float[] x = new float[n];
            for (int k = 0; k < n; k++) {
                x[k] = (float) random.nextGaussian();
            }
            samples.add(x);
        }
        return samples;
    }

    // ---- weights (the ONNX builders are TfliteOpsTest's)

    private TensorProto weights(String name, long... dims) {
        float[] v = new float[(int) Tensors.elementCount(dims)];
        for (int k = 0; k < v.length; k++) {
            v[k] = (float) random.nextGaussian() * 0.5f;
        }
        return Tensors.floats(name, dims, v);
    }

    private TensorProto positive(String name, long... dims) {
        float[] v = new float[(int) Tensors.elementCount(dims)];
        for (int k = 0; k < v.length; k++) {
            v[k] = 0.5f + random.nextFloat();
        }
        return Tensors.floats(name, dims, v);
    }
}
