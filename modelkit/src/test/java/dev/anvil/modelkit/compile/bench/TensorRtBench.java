package dev.anvil.modelkit.compile.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.compile.CnnMnistInt8Fixture;
import dev.anvil.modelkit.compile.tensorrt.JavaCppTensorRt;
import dev.anvil.modelkit.compile.tensorrt.ShapeProfile;
import dev.anvil.modelkit.compile.tensorrt.TensorRtBackend;
import dev.anvil.modelkit.compile.tensorrt.TensorRtModels;
import dev.anvil.modelkit.compile.tensorrt.TensorRtPrecision;
import dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime;
import dev.anvil.modelkit.compile.tensorrt.TensorRtVerifier;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtSessions;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * bench/tensorrt.sh, on a machine with a GPU: cnn_mnist (opset 13) built by TensorRT at float32, float16 and int8
 * (from the same calibration table as bench/compile.sh), each run batch 1 on the held-out MNIST images against ONNX
 * Runtime FP32: build time, engine size, agreement, accuracy, latency p50/p95, beside ONNX Runtime on the CPU and,
 * when the onnxruntime_gpu jar is on the class path, with its CUDA execution provider. Without TensorRT it prints
 * why and exits with status 2.
 */
public final class TensorRtBench {
    private static final String ROW = "%-26s %9s %9s %9s %10s %12s %11s %11s%n";

    public static void main(String[] args) throws Exception {
        TensorRtRuntime.Availability a = TensorRtRuntime.detect();
        if (!a.available()) {
            System.err.println("tensorrt bench: TensorRT unavailable: " + a.reason());
            System.exit(2);
        }
        int samples = Integer.getInteger("anvil.bench.samples", 0);
        int iterations = Integer.getInteger("anvil.bench.iterations", 2000);
        Path dir = Files.createTempDirectory("anvil-tensorrt-bench");
        CnnMnistInt8Fixture fx = CnnMnistInt8Fixture.prepare(dir);
        int n = samples > 0 ? Math.min(samples, fx.images.size()) : fx.images.size();
        List<float[]> images = fx.images.subList(0, n);
        int[] labels = Arrays.copyOf(fx.labels, n);
        int[] shape = {1, 1, 28, 28};
        TensorRtBackend trt = new JavaCppTensorRt();
        System.out.printf("cnn_mnist (opset 13) on %s; %d held-out MNIST images, batch 1; latency over %d runs after"
                + " 200 warm-up%n", trt.device(), n, iterations);
        System.out.printf(ROW, "model", "build_s", "bytes", "accuracy", "agreement", "max_abs_prob", "p50_us",
                "p95_us");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double[] cpu = ortLatency(env, fx.float13, images, iterations, false);
        System.out.printf(ROW, "onnxruntime cpu fp32", "-", Files.size(fx.float13), "-", "-", "-", fmt(cpu[0]),
                fmt(cpu[1]));
        try {
            double[] cuda = ortLatency(env, fx.float13, images, iterations, true);
            System.out.printf(ROW, "onnxruntime cuda fp32", "-", Files.size(fx.float13), "-", "-", "-", fmt(cuda[0]),
                    fmt(cuda[1]));
        } catch (OrtException | UnsatisfiedLinkError e) {
            System.out.printf("onnxruntime cuda: not measured (%s; put onnxruntime_gpu 1.29.0 on the class path with"
                    + " ANVIL_ORT_GPU_JAR)%n", e.getMessage());
        }
        List<ShapeProfile> profile = List.of(ShapeProfile.fixed("input_image", List.of(1L, 1L, 28L, 28L)));
        for (TensorRtPrecision p : TensorRtPrecision.values()) {
            TensorRtModels.Prepared prepared = TensorRtModels.prepare(OnnxModel.read(fx.float13), p,
                    p == TensorRtPrecision.INT8 ? fx.table : null);
            long t0 = System.nanoTime();
            TensorRtBackend.Built built = trt.build(prepared.model().toBytes(), profile, null, 1L << 30);
            double buildSeconds = (System.nanoTime() - t0) / 1e9;
            try (TensorRtBackend.Engine engine = trt.load(built.plan())) {
                TensorRtVerifier.Report r = TensorRtVerifier.compare(fx.float13, engine, images, shape, labels);
                double[] lat = engineLatency(engine, images, iterations);
                System.out.printf(ROW, "tensorrt " + p.specName(), String.format("%.1f", buildSeconds),
                        built.plan().length, String.format("%.4f", r.comparison().candidateAccuracy()),
                        String.format("%.4f", r.comparison().top1Agreement()),
                        String.format("%.3g", r.comparison().maxAbsErrorProbabilities()), fmt(lat[0]), fmt(lat[1]));
            }
        }
    }

    private static double[] engineLatency(TensorRtBackend.Engine engine, List<float[]> images, int iterations) {
        long[] dims = {1, 1, 28, 28};
        for (int i = 0; i < 200; i++) {
            engine.run(images.get(i % images.size()), dims);
        }
        long[] times = new long[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            engine.run(images.get(i % images.size()), dims);
            times[i] = System.nanoTime() - t0;
        }
        return percentiles(times);
    }

    private static double[] ortLatency(OrtEnvironment env, Path model, List<float[]> images, int iterations,
            boolean cuda) throws Exception {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            if (cuda) {
                opts.addCUDA(0);
            }
            try (OrtSession s = OrtSessions.open(env, model, opts)) {
                String input = s.getInputNames().iterator().next();
                long[] dims = {1, 1, 28, 28};
                long[] times = new long[iterations];
                for (int i = 0; i < 200 + iterations; i++) {
                    long t0 = System.nanoTime();
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(images.get(i % images.size())),
                            dims); OrtSession.Result r = s.run(Map.of(input, t))) {
                        r.get(0).getValue();
                    }
                    if (i >= 200) {
                        times[i - 200] = System.nanoTime() - t0;
                    }
                }
                return percentiles(times);
            }
        }
    }

    private static double[] percentiles(long[] times) {
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        return new double[] {sorted[sorted.length / 2] / 1000.0, sorted[(int) (sorted.length * 0.95)] / 1000.0};
    }

    private static String fmt(double us) {
        return String.format("%.1f", us);
    }
}
