package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LowRankActivationAwareTest {
    private static final int K = 16;
    private static final int N = 12;

    @TempDir
    Path dir;

    /** Inputs whose directions differ in scale by 10^3 and are correlated: what whitening is for. */
    private static float[] inputs(int rows, long seed) {
        Random random = new Random(seed);
        double[][] mix = new double[K][K];
        Random fixed = new Random(11);
        for (int i = 0; i < K; i++) {
            for (int j = 0; j < K; j++) {
                mix[i][j] = fixed.nextGaussian() * Math.pow(10, -3.0 * i / (K - 1));
            }
        }
        float[] x = new float[rows * K];
        for (int r = 0; r < rows; r++) {
            double[] z = new double[K];
            for (int i = 0; i < K; i++) {
                z[i] = random.nextGaussian();
            }
            for (int j = 0; j < K; j++) {
                double s = 0;
                for (int i = 0; i < K; i++) {
                    s += z[i] * mix[i][j];
                }
                x[r * K + j] = (float) s;
            }
        }
        return x;
    }

    private static float[] weight() {
        Random random = new Random(3);
        float[] w = new float[K * N];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        return w;
    }

    private Path dataset(String name, String input, float[] x, int width) throws Exception {
        Path file = dir.resolve(name + ".zip");
        DatasetWriter.write(file, new Dataset(Map.of(input, NpyArray.ofFloat32(new long[] {x.length / width, width}, x)),
                Optional.empty()));
        return file;
    }

    private static double error(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    @Test
    void whiteningLowersTheOutputErrorAtTheSameRank() throws Exception {
        int calRows = 512;
        float[] cal = inputs(calRows, 1);
        float[] heldOut = inputs(256, 2);
        OnnxModel reference = CompressTestModels.matmul(weight(), K, N);
        float[] yCal = CompressTestModels.run(reference, cal, calRows, K);
        float[] yHeld = CompressTestModels.run(reference, heldOut, 256, K);
        LowRankOptions rank4 = new LowRankOptions(null, null, Map.of("mm", 4), Set.of());

        OnnxModel plain = CompressTestModels.matmul(weight(), K, N);
        LowRankFactorizer.factorize(plain, rank4);

        OnnxModel aware = CompressTestModels.matmul(weight(), K, N);
        LowRankOptions awareOptions = rank4.withMethod(LowRankOptions.Method.ACTIVATION_AWARE);
        assertThat(LowRankFactorizer.calibrationInputs(aware, awareOptions)).containsExactly("x");
        Map<String, InputGrams.Gram> grams;
        try (DatasetReader reader = DatasetReader.open(dataset("cal", "x", cal, K))) {
            grams = InputGrams.measure(CompressTestModels.ENV, aware, Set.of("x"), reader, calRows);
        }
        assertThat(grams.get("x").rows()).isEqualTo(calRows);
        assertThat(grams.get("x").d()).isEqualTo(K);
        LowRankReport report = LowRankFactorizer.factorize(aware, awareOptions, (d, t) -> {}, grams);
        assertThat(report.layers()).singleElement().satisfies(l -> {
            assertThat(l.rank()).isEqualTo(4);
            assertThat(l.method()).isEqualTo("activation_aware");
            assertThat(l.paramsAfter()).isEqualTo(4 * (K + N));
        });
        // both rewritten models run in ONNX Runtime as two MatMuls
        assertThat(aware.graph().nodes()).extracting(NodeProto::getOpType).containsExactly("MatMul", "MatMul");
        double plainCal = error(yCal, CompressTestModels.run(plain, cal, calRows, K));
        double awareCal = error(yCal, CompressTestModels.run(aware, cal, calRows, K));
        double plainHeld = error(yHeld, CompressTestModels.run(plain, heldOut, 256, K));
        double awareHeld = error(yHeld, CompressTestModels.run(aware, heldOut, 256, K));
        // the optimum for these inputs: ‖X·(W − W')‖² is the tail of the whitened spectrum
        double optimum = Math.sqrt(1 - report.layers().get(0).energyKept()) * norm(yCal);
        System.out.printf("rank 4 of %d×%d: ‖XW − XW'‖ calibration plain %.4f, activation-aware %.4f (optimum %.4f);"
                + " held out plain %.4f, activation-aware %.4f%n", K, N, plainCal, awareCal, optimum, plainHeld, awareHeld);
        assertThat(awareCal).isLessThan(0.5 * plainCal);
        assertThat(awareHeld).isLessThan(0.5 * plainHeld);
        assertThat(awareCal).isCloseTo(optimum, offset(0.02 * optimum));
    }

    private static double norm(float[] a) {
        return error(a, new float[a.length]);
    }

    @Test
    void refusals() throws Exception {
        OnnxModel model = CompressTestModels.matmul(weight(), K, N);
        LowRankOptions aware = LowRankOptions.paramRatio(0.8).withMethod(LowRankOptions.Method.ACTIVATION_AWARE);
        // no calibration
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, aware))
                .hasMessageContaining("activation_aware").hasMessageContaining("calibration dataset");
        // calibration statistics of the wrong width (another model's inputs)
        InputGrams.Gram narrow = new InputGrams.Gram(8, new double[64], 10);
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, aware, (d, t) -> {}, Map.of("x", narrow)))
                .hasMessageContaining("'x'").hasMessageContaining("8 wide").hasMessageContaining("16");
        // calibration statistics of all-zero inputs
        InputGrams.Gram zero = new InputGrams.Gram(K, new double[K * K], 10);
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, aware, (d, t) -> {}, Map.of("x", zero)))
                .hasMessageContaining("not all zero");
        // a dataset whose array does not fit the model is named when the activations are measured
        Path wrong = dataset("wrong", "x", new float[8 * 8], 8);
        try (DatasetReader reader = DatasetReader.open(wrong)) {
            assertThatThrownBy(() -> InputGrams.measure(CompressTestModels.ENV, model, Set.of("x"), reader, 8))
                    .hasMessageContaining("x");
        }
        try (DatasetReader reader = DatasetReader.open(wrong)) {
            assertThatThrownBy(() -> InputGrams.measure(CompressTestModels.ENV, model, Set.of("x"), reader, 0))
                    .hasMessageContaining("1 to " + InputGrams.MAX_SAMPLES);
        }
        // ranks that cannot be
        InputGrams.Gram identity = new InputGrams.Gram(K, identity(K), 10);
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, new LowRankOptions(null, null, Map.of("mm", 13),
                Set.of()).withMethod(LowRankOptions.Method.ACTIVATION_AWARE), (d, t) -> {}, Map.of("x", identity)))
                .hasMessageContaining("above its full rank 12");
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, aware.withParamRatio(0.01), (d, t) -> {},
                Map.of("x", identity))).hasMessageContaining("cannot be reached");
        assertThatThrownBy(() -> LowRankOptions.energy(0.9).withAllocation(LowRankOptions.Allocation.ERROR))
                .hasMessageContaining("param_ratio");
        // decompositions of one method are not applied as the other's
        LowRankFactorizer.Analysis plain = LowRankFactorizer.analyse(model, LowRankOptions.paramRatio(0.8), null,
                (d, t) -> {});
        assertThatThrownBy(() -> LowRankFactorizer.apply(model, aware, plain)).hasMessageContaining("method SVD");
        // nothing was rewritten by any refusal
        assertThat(model.graph().nodes()).hasSize(1);
        assertThat(Tensors.dims(model.graph().initializer("W").orElseThrow())).containsExactly(K, N);
    }

    private static double[] identity(int n) {
        double[] g = new double[n * n];
        for (int i = 0; i < n; i++) {
            g[i * n + i] = 1;
        }
        return g;
    }

    @Test
    void allocationByErrorSpendsTheBudgetWhereItCostsLeast() {
        // two layers: one of nearly rank 2, one with a flat spectrum; one common energy level must cut both alike
        Random random = new Random(8);
        int n = 16;
        float[] lowRank = new float[n * n];
        float[] flat = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                lowRank[i * n + j] = (float) (Math.sin(i + 1) * Math.cos(j) + 0.5 * Math.cos(2 * i) * Math.sin(j + 2)
                        + 0.01 * random.nextGaussian());
                flat[i * n + j] = (float) random.nextGaussian();
            }
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("two")
                .addInput(CompressTestModels.value("x", -1, n)).addOutput(CompressTestModels.value("y", -1, n))
                .addInitializer(Tensors.floats("A", new long[] {n, n}, lowRank))
                .addInitializer(Tensors.floats("B", new long[] {n, n}, flat))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("a").addInput("x").addInput("A").addOutput("h"))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("b").addInput("h").addInput("B").addOutput("y"));
        double[] lost = new double[2];
        int i = 0;
        for (LowRankOptions.Allocation allocation : LowRankOptions.Allocation.values()) {
            OnnxModel model = CompressTestModels.model(g.clone(), 13);
            LowRankReport report = LowRankFactorizer.factorize(model,
                    LowRankOptions.paramRatio(0.6).withAllocation(allocation));
            assertThat(report.paramsAfter()).isLessThanOrEqualTo((long) (0.6 * 2 * n * n));
            lost[i++] = report.layers().stream().mapToDouble(l -> 1 - l.energyKept()).sum();
            System.out.printf("allocation %s: ranks %s, Σ(1 − energy kept) %.4f%n", allocation,
                    report.layers().stream().map(l -> l.name() + " " + l.rank()).toList(), lost[i - 1]);
        }
        assertThat(lost[1]).isLessThan(lost[0]);
    }

    @Test
    void anEmbeddingTableBecomesAGatherAndAMatMul() throws Exception {
        int vocab = 40;
        int width = 10;
        Random random = new Random(4);
        float[] table = new float[vocab * width]; // rank 3
        double[][] a = new double[3][vocab];
        double[][] b = new double[3][width];
        for (int r = 0; r < 3; r++) {
            for (int v = 0; v < vocab; v++) {
                a[r][v] = random.nextGaussian();
            }
            for (int w = 0; w < width; w++) {
                b[r][w] = random.nextGaussian();
            }
        }
        for (int v = 0; v < vocab; v++) {
            for (int w = 0; w < width; w++) {
                table[v * width + w] = (float) (a[0][v] * b[0][w] + a[1][v] * b[1][w] + a[2][v] * b[2][w]);
            }
        }
        ValueInfoProto ids = ValueInfoProto.newBuilder().setName("ids").setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto
                        .newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n"))))).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("embed").addInput(ids)
                .addOutput(CompressTestModels.value("y", -1, width))
                .addInitializer(Tensors.floats("E", new long[] {vocab, width}, table))
                .addNode(NodeProto.newBuilder().setOpType("Gather").setName("embed").addInput("E").addInput("ids")
                        .addOutput("y"));
        OnnxModel model = CompressTestModels.model(g, 13);
        long[] tokens = {0, 5, 39, 17, 5, 22};
        float[] expected = runIds(model, tokens);
        // without embeddings the table is not a layer
        assertThatThrownBy(() -> LowRankFactorizer.factorize(model, new LowRankOptions(null, null, Map.of("embed", 3),
                Set.of()))).hasMessageContaining("[embed]");
        LowRankReport report = LowRankFactorizer.factorize(model, new LowRankOptions(null, null, Map.of("embed", 3),
                Set.of(), LowRankOptions.Method.SVD, LowRankOptions.Allocation.ENERGY, true));
        assertThat(report.layers()).singleElement().satisfies(l -> {
            assertThat(l.opType()).isEqualTo("Gather");
            assertThat(l.paramsAfter()).isEqualTo(3 * (vocab + width));
        });
        assertThat(report.modelParamsBefore()).isEqualTo(vocab * width);
        assertThat(report.modelParamsAfter()).isEqualTo(3 * (vocab + width));
        assertThat(model.graph().nodes()).extracting(NodeProto::getOpType).containsExactly("Gather", "MatMul");
        assertThat(runIds(model, tokens)).containsExactly(expected, offset(1e-4f));
    }

    private static float[] runIds(OnnxModel model, long[] ids) throws Exception {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession s = CompressTestModels.ENV.createSession(model.toBytes(), so);
                OnnxTensor in = OnnxTensor.createTensor(CompressTestModels.ENV, LongBuffer.wrap(ids),
                        new long[] {ids.length});
                OrtSession.Result r = s.run(Map.of("ids", in))) {
            FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] values = new float[out.remaining()];
            out.get(values);
            return values;
        }
    }
}
