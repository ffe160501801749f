package dev.anvil.modelkit.compile.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compile.CnnMnistInt8Fixture;
import dev.anvil.modelkit.compile.TfliteConverter;
import dev.anvil.modelkit.compile.TfliteRunner;
import dev.anvil.modelkit.compile.TfliteVerifier;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.train.TabularDatasets;
import dev.anvil.modelkit.train.TabularTrainer;
import dev.anvil.modelkit.train.TrainTask;
import dev.anvil.modelkit.train.TrainerSpec;
import dev.anvil.modelkit.train.TrainingData;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * bench/compile.sh: cnn_mnist as ONNX Runtime FP32, Anvil's ONNX INT8 (static QDQ), TFLite float32, float16 weights
 * and full-integer INT8, side by side in one run: size, accuracy and agreement with ONNX Runtime FP32 on the 9,744
 * held-out MNIST images (the 256 others calibrate; one calibration table serves both INT8 models), latency batch 1
 * (1 and 2 threads) p50/p95. Then the same columns for a second model the converter covers (Tribuo logistic regression
 * on sklearn's digits), and the converter's refusal of the other real models at hand.
 */
public final class CompileBench {
    private static final String ROW = "%-24s %9d %9.4f %10s %12s %11.1f %11.1f %11.1f %11.1f%n";

    public static void main(String[] args) throws Exception {
        int samples = Integer.getInteger("anvil.bench.samples", 0);
        int iterations = Integer.getInteger("anvil.bench.iterations", 2000);
        Path onnx = SharedData.cnnMnist();
        Path dir = Files.createTempDirectory("anvil-compile-bench");
        CnnMnistInt8Fixture fx = CnnMnistInt8Fixture.prepare(dir);
        int n = samples > 0 ? Math.min(samples, fx.images.size()) : fx.images.size();
        List<float[]> images = fx.images.subList(0, n);
        int[] labels = Arrays.copyOf(fx.labels, n);
        int[] shape = {1, 1, 28, 28};
        System.out.printf("cnn_mnist, %d held-out MNIST images (256 others calibrated both INT8 models: %s), latency"
                + " batch 1 over %d runs (after 200 warm-up)%n", n, fx.table.method() + " " + fx.table.percentile(),
                iterations);
        System.out.printf("%-24s %9s %9s %10s %12s %11s %11s %11s %11s%n", "model", "bytes", "accuracy", "agreement",
                "max_abs_prob", "p50_1t_us", "p95_1t_us", "p50_2t_us", "p95_2t_us");
        List<float[]> reference = ortOutputs(onnx, images);
        double[] ort1 = ortLatency(onnx, images, 1, iterations);
        double[] ort2 = ortLatency(onnx, images, 2, iterations);
        System.out.printf(ROW, "onnxruntime fp32", Files.size(onnx), accuracy(reference, labels), "-", "-", ort1[0],
                ort1[1], ort2[0], ort2[1]);
        Path onnxInt8 = dir.resolve("cnn_mnist_int8.onnx");
        fx.writeOnnxInt8(onnxInt8);
        List<float[]> int8 = ortOutputs(onnxInt8, images);
        double[] q1 = ortLatency(onnxInt8, images, 1, iterations);
        double[] q2 = ortLatency(onnxInt8, images, 2, iterations);
        System.out.printf(ROW, "onnxruntime int8 (anvil)", Files.size(onnxInt8), accuracy(int8, labels),
                String.format("%.4f", agreement(reference, int8)), String.format("%.3g", maxAbsProb(reference, int8)),
                q1[0], q1[1], q2[0], q2[1]);
        for (TfliteConverter.Precision p : TfliteConverter.Precision.values()) {
            Path tfl = dir.resolve("cnn_mnist_" + p.name().toLowerCase() + ".tflite");
            byte[] flatbuffer = p == TfliteConverter.Precision.INT8
                    ? TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table).flatbuffer()
                    : TfliteConverter.convert(OnnxModel.read(onnx), p).flatbuffer();
            Files.write(tfl, flatbuffer);
            TfliteVerifier.Report r = TfliteVerifier.compare(onnx, tfl, images, shape, labels);
            double[] t1 = tfliteLatency(tfl, images, 1, iterations);
            double[] t2 = tfliteLatency(tfl, images, 2, iterations);
            System.out.printf(ROW, "tflite " + p.name().toLowerCase(), Files.size(tfl), r.candidateAccuracy(),
                    String.format("%.4f", r.top1Agreement()), String.format("%.3g", r.maxAbsErrorProbabilities()),
                    t1[0], t1[1], t2[0], t2[1]);
        }
        // int8 inputs and outputs: the runner quantises each image and dequantises the output, as a caller does
        Path int8Io = dir.resolve("cnn_mnist_int8_io.tflite");
        Files.write(int8Io, TfliteConverter.convertInt8(OnnxModel.read(fx.float13), fx.table, TfliteConverter.Io.INT8)
                .flatbuffer());
        TfliteVerifier.Report r = TfliteVerifier.compare(onnx, int8Io, images, shape, labels);
        double[] t1 = tfliteLatency(int8Io, images, 1, iterations);
        double[] t2 = tfliteLatency(int8Io, images, 2, iterations);
        System.out.printf(ROW, "tflite int8, int8 io", Files.size(int8Io), r.candidateAccuracy(),
                String.format("%.4f", r.top1Agreement()), String.format("%.3g", r.maxAbsErrorProbabilities()),
                t1[0], t1[1], t2[0], t2[1]);
        batched(dir, images, iterations);
        System.out.println();
        digits(samples, iterations, dir);
        System.out.println();
        refusals(dir);
    }

    /**
     * The second model the converter covers: Tribuo's multinomial logistic regression (standardised features) trained
     * on sklearn's digits (64 pixel features, 0–16) and exported to ONNX as the train operator exports it, then
     * compiled. Float32 and float16 weights only: full-integer INT8 needs a calibration table of this model's tensors.
     */
    private static void digits(int samples, int iterations, Path dir) throws Exception {
        TrainingData all = TabularDatasets.read(new CsvDatasetImporter("float_input")
                .read(SharedData.file("sklearn/digits.csv.gz")), null, null, TrainTask.CLASSIFICATION, null, "digits");
        List<TrainingData> parts = TabularDatasets.split(all, 0.25, 1);
        TabularTrainer.Result trained = new TabularTrainer(OrtEnvironment.getEnvironment()).train(parts.get(0),
                Optional.empty(), new TabularTrainer.Options(TrainerSpec.parse("logistic", TrainTask.CLASSIFICATION,
                        Map.of()), 42, "float_input", true), (p, e, n, l) -> { });
        Path onnx = dir.resolve("digits_logistic.onnx");
        Files.write(onnx, trained.onnx());
        TrainingData held = parts.get(1);
        int n = samples > 0 ? Math.min(samples, held.samples()) : held.samples();
        List<float[]> rows = Arrays.asList(held.features()).subList(0, n);
        int[] labels = Arrays.copyOf(held.classes(), n);
        int features = rows.get(0).length;
        OnnxModel model = OnnxModel.read(onnx);
        System.out.printf("digits logistic (Tribuo 4.3.2, %d training rows; ONNX ops %s), %d held-out rows, latency"
                + " batch 1 over %d runs (after 200 warm-up)%n", parts.get(0).samples(), opTypes(model), n, iterations);
        System.out.printf("%-24s %9s %9s %10s %12s %11s %11s %11s %11s%n", "model", "bytes", "accuracy", "agreement",
                "max_abs_prob", "p50_1t_us", "p95_1t_us", "p50_2t_us", "p95_2t_us");
        long[] ortShape = {1, features};
        int[] shape = {1, features};
        List<float[]> reference = ortOutputs(onnx, rows, ortShape);
        double[] ort1 = ortLatency(onnx, rows, 1, iterations, ortShape);
        double[] ort2 = ortLatency(onnx, rows, 2, iterations, ortShape);
        System.out.printf(ROW, "onnxruntime fp32", Files.size(onnx), accuracy(reference, labels), "-", "-", ort1[0],
                ort1[1], ort2[0], ort2[1]);
        for (TfliteConverter.Precision p : List.of(TfliteConverter.Precision.FLOAT32, TfliteConverter.Precision.FLOAT16)) {
            Path tfl = dir.resolve("digits_" + p.name().toLowerCase() + ".tflite");
            Files.write(tfl, TfliteConverter.convert(model, p).flatbuffer());
            TfliteVerifier.Report r = TfliteVerifier.compare(onnx, tfl, rows, shape, labels);
            double[] t1 = tfliteLatency(tfl, rows, 1, iterations, shape);
            double[] t2 = tfliteLatency(tfl, rows, 2, iterations, shape);
            System.out.printf(ROW, "tflite " + p.name().toLowerCase(), Files.size(tfl), r.candidateAccuracy(),
                    String.format("%.4f", r.top1Agreement()), String.format("%.3g", r.maxAbsErrorProbabilities()),
                    t1[0], t1[1], t2[0], t2[1]);
        }
    }

    /** The other real models at hand, and the ops the converter refuses in each (it refuses before any work). */
    private static void refusals(Path dir) throws Exception {
        System.out.println("not compiled (the converter's refusal):");
        Path minilm = dir.resolve("all-minilm-l6-v2.onnx");
        try (var in = CompileBench.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.copy(in, minilm);
        }
        System.out.printf("  all-MiniLM-L6-v2 (Maven, FP32): %s%n", refused(OnnxModel.read(minilm)));
        Files.delete(minilm);
        TrainingData all = TabularDatasets.read(new CsvDatasetImporter("float_input")
                .read(SharedData.file("sklearn/digits.csv.gz")), null, null, TrainTask.CLASSIFICATION, null, "digits");
        for (String trainer : List.of("libsvm", "liblinear")) {
            TabularTrainer.Result trained = new TabularTrainer(OrtEnvironment.getEnvironment()).train(all,
                    Optional.empty(), new TabularTrainer.Options(TrainerSpec.parse(trainer, TrainTask.CLASSIFICATION,
                            Map.of()), 42, "float_input", true), (p, e, n, l) -> { });
            Path onnx = dir.resolve("digits_" + trainer + ".onnx");
            Files.write(onnx, trained.onnx());
            System.out.printf("  digits %s (Tribuo): %s%n", trainer, refused(OnnxModel.read(onnx)));
        }
    }

    private static String refused(OnnxModel model) {
        List<String> nodes = TfliteConverter.unsupportedNodes(model);
        return nodes.isEmpty() ? "converts (ops " + opTypes(model) + ")" : nodes.size() + " node(s) refused, op types "
                + nodes.stream().map(node -> node.split(" ")[0]).distinct().toList();
    }

    private static java.util.Set<String> opTypes(OnnxModel model) {
        java.util.Set<String> ops = new java.util.TreeSet<>();
        model.graph().proto().getNodeList().forEach(node -> ops.add(node.getOpType()));
        return ops;
    }

    private static List<float[]> ortOutputs(Path model, List<float[]> images) throws Exception {
        return ortOutputs(model, images, new long[] {1, 1, 28, 28});
    }

    private static List<float[]> ortOutputs(Path model, List<float[]> images, long[] shape) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<float[]> out = new ArrayList<>();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(model.toString(), o)) {
                String in = s.getInputNames().iterator().next();
                for (float[] x : images) {
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                            OrtSession.Result r = s.run(Map.of(in, t))) {
                        out.add(((float[][]) r.get(0).getValue())[0]);
                    }
                }
            }
        }
        return out;
    }

    private static double accuracy(List<float[]> outputs, int[] labels) {
        int correct = 0;
        for (int i = 0; i < outputs.size(); i++) {
            correct += argmax(outputs.get(i)) == labels[i] ? 1 : 0;
        }
        return (double) correct / outputs.size();
    }

    private static double agreement(List<float[]> a, List<float[]> b) {
        int same = 0;
        for (int i = 0; i < a.size(); i++) {
            same += argmax(a.get(i)) == argmax(b.get(i)) ? 1 : 0;
        }
        return (double) same / a.size();
    }

    /** cnn_mnist ends in LogSoftmax: compared as probabilities, as TfliteVerifier does. */
    private static double maxAbsProb(List<float[]> a, List<float[]> b) {
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).length; j++) {
                max = Math.max(max, Math.abs(Math.exp(a.get(i)[j]) - Math.exp(b.get(i)[j])));
            }
        }
        return max;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double[] ortLatency(Path onnx, List<float[]> images, int threads, int iterations) throws Exception {
        return ortLatency(onnx, images, threads, iterations, new long[] {1, 1, 28, 28});
    }

    private static double[] ortLatency(Path onnx, List<float[]> images, int threads, int iterations, long[] shape)
            throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            try (OrtSession s = env.createSession(onnx.toString(), o)) {
                String in = s.getInputNames().iterator().next();
                long[] times = new long[iterations];
                for (int i = -200; i < iterations; i++) {
                    float[] x = images.get(Math.floorMod(i, images.size()));
                    long t0 = System.nanoTime();
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
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
        return tfliteLatency(tfl, images, threads, iterations, new int[] {1, 1, 28, 28});
    }

    private static double[] tfliteLatency(Path tfl, List<float[]> images, int threads, int iterations, int[] shape) {
        try (TfliteRunner runner = new TfliteRunner(tfl, threads)) {
            long[] times = new long[iterations];
            for (int i = -200; i < iterations; i++) {
                float[] x = images.get(Math.floorMod(i, images.size()));
                long t0 = System.nanoTime();
                runner.run(x, shape);
                if (i >= 0) {
                    times[i] = System.nanoTime() - t0;
                }
            }
            return percentiles(times);
        }
    }

    /**
     * The interpreter resized to a batch of 32 (the .tflite's batch is free): latency per batch and per sample, and
     * whether every output equals the batch-1 run's.
     */
    private static void batched(Path dir, List<float[]> images, int iterations)
            throws Exception {
        int batch = 32;
        int runs = Math.max(10, iterations / batch);
        int per = images.get(0).length;
        System.out.printf("%nbatch %d (interpreter resized), %d runs after 20 warm-up, 1 thread%n", batch, runs);
        System.out.printf("%-24s %12s %12s %14s %22s%n", "model", "p50_batch_us", "p95_batch_us", "p50_per_sample",
                "max_diff_vs_batch_1");
        Map<String, Path> files = new java.util.LinkedHashMap<>();
        files.put("tflite float32", dir.resolve("cnn_mnist_float32.tflite"));
        files.put("tflite int8", dir.resolve("cnn_mnist_int8.tflite"));
        files.put("tflite int8, int8 io", dir.resolve("cnn_mnist_int8_io.tflite"));
        int[] shape = {batch, 1, 28, 28};
        for (Map.Entry<String, Path> f : files.entrySet()) {
            try (TfliteRunner runner = new TfliteRunner(f.getValue(), 1)) {
                long[] times = new long[runs];
                double maxDiff = 0;
                for (int i = -20; i < runs; i++) {
                    int first = Math.floorMod(i * batch, images.size() - batch);
                    float[] x = new float[batch * per];
                    for (int s = 0; s < batch; s++) {
                        System.arraycopy(images.get(first + s), 0, x, s * per, per);
                    }
                    long t0 = System.nanoTime();
                    float[] out = runner.run(x, shape);
                    if (i >= 0) {
                        times[i] = System.nanoTime() - t0;
                    }
                    if (i == 0) {
                        for (int s = 0; s < batch; s++) {
                            float[] one = runner.run(images.get(first + s), new int[] {1, 1, 28, 28});
                            for (int k = 0; k < one.length; k++) {
                                maxDiff = Math.max(maxDiff, Math.abs(one[k] - out[s * one.length + k]));
                            }
                        }
                    }
                }
                double[] p = percentiles(times);
                System.out.printf("%-24s %12.1f %12.1f %14.2f %22.3g%n", f.getKey(), p[0], p[1], p[0] / batch, maxDiff);
            }
        }
    }

    private static double[] percentiles(long[] times) {
        long[] s = times.clone();
        Arrays.sort(s);
        return new double[] {s[(int) (0.50 * (s.length - 1))] / 1e3, s[(int) (0.95 * (s.length - 1))] / 1e3};
    }
}
