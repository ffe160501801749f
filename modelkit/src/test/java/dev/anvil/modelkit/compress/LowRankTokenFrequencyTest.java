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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embedding tables weighed by token frequency on a 40 × 10 table of full rank: the subspace is the weighted PCA's
 * (checked against the spectrum of D^½·E), every row is its orthogonal projection onto it, uniform weights give
 * plain SVD, and the ids are counted from the dataset without its padding.
 */
class LowRankTokenFrequencyTest {
    private static final int VOCAB = 40;
    private static final int WIDTH = 10;
    private static final int RANK = 3;

    @TempDir
    Path dir;

    private static float[] table() {
        Random random = new Random(4);
        float[] t = new float[VOCAB * WIDTH];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) random.nextGaussian();
        }
        return t;
    }

    private static OnnxModel embedding() {
        ValueInfoProto ids = ValueInfoProto.newBuilder().setName("ids").setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto
                        .newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n"))))).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("embed").addInput(ids)
                .addOutput(CompressTestModels.value("y", -1, WIDTH))
                .addInitializer(Tensors.floats("E", new long[] {VOCAB, WIDTH}, table()))
                .addNode(NodeProto.newBuilder().setOpType("Gather").setName("embed").addInput("E").addInput("ids")
                        .addOutput("y"));
        return CompressTestModels.model(g, 13);
    }

    private static LowRankOptions weighted(double floor) {
        return new LowRankOptions(null, null, Map.of("embed", RANK), Set.of(), LowRankOptions.Method.SVD,
                LowRankOptions.Allocation.ENERGY, true, LowRankOptions.Refinement.NONE,
                LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY, floor);
    }

    private static LowRankOptions uniform() {
        return new LowRankOptions(null, null, Map.of("embed", RANK), Set.of(), LowRankOptions.Method.SVD,
                LowRankOptions.Allocation.ENERGY, true);
    }

    /** Every row of the (factorised) table, looked up in ONNX Runtime. */
    private static float[] rows(OnnxModel model) throws Exception {
        long[] all = new long[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            all[i] = i;
        }
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession s = CompressTestModels.ENV.createSession(model.toBytes(), so);
                OnnxTensor in = OnnxTensor.createTensor(CompressTestModels.ENV, LongBuffer.wrap(all), new long[] {VOCAB});
                OrtSession.Result r = s.run(Map.of("ids", in))) {
            FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] values = new float[out.remaining()];
            out.get(values);
            return values;
        }
    }

    private static long[] counts() {
        long[] c = new long[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            c[i] = i % 7 == 0 ? 0 : i % 5; // unseen ids among them
        }
        c[5] = 1000;
        c[17] = 400;
        return c;
    }

    private static double weightedError(float[] original, float[] rebuilt, double[] w) {
        double s = 0;
        for (int i = 0; i < VOCAB; i++) {
            for (int j = 0; j < WIDTH; j++) {
                double d = original[i * WIDTH + j] - rebuilt[i * WIDTH + j];
                s += w[i] * d * d;
            }
        }
        return s;
    }

    private static double rowError(float[] original, float[] rebuilt, int row) {
        double s = 0;
        for (int j = 0; j < WIDTH; j++) {
            double d = original[row * WIDTH + j] - rebuilt[row * WIDTH + j];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    @Test
    void theSubspaceIsTheWeightedPcaAndEveryRowItsProjection() throws Exception {
        double floor = 0.5;
        long[] c = counts();
        double[] w = new double[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            w[i] = c[i] + floor;
        }
        float[] e = table();
        OnnxModel model = embedding();
        assertThat(LowRankFactorizer.tokenCountInputs(model, weighted(floor))).containsExactly(Map.entry("ids", VOCAB));
        LowRankReport report = LowRankFactorizer.apply(model, weighted(floor),
                LowRankFactorizer.analyse(model, weighted(floor), null, Map.of("ids", c), (d, t) -> {}));
        assertThat(report.layers()).singleElement().satisfies(l -> {
            assertThat(l.method()).isEqualTo("token_frequency");
            assertThat(l.paramsAfter()).isEqualTo(RANK * (VOCAB + WIDTH));
        });
        assertThat(model.graph().nodes()).extracting(NodeProto::getOpType).containsExactly("Gather", "MatMul");
        float[] rebuilt = rows(model);
        float[] q = Tensors.toFloats(model.graph().initializers().values().stream()
                .filter(t -> Tensors.dims(t)[0] == RANK).findFirst().orElseThrow());
        // every row is its own orthogonal projection onto Q's (orthonormal) rows: ê = Σ_k (e·q_k)·q_k
        for (int i = 0; i < VOCAB; i++) {
            for (int j = 0; j < WIDTH; j++) {
                double projection = 0;
                for (int k = 0; k < RANK; k++) {
                    double dot = 0;
                    for (int m = 0; m < WIDTH; m++) {
                        dot += e[i * WIDTH + m] * (double) q[k * WIDTH + m];
                    }
                    projection += dot * q[k * WIDTH + j];
                }
                assertThat((double) rebuilt[i * WIDTH + j]).as("row %d, column %d", i, j)
                        .isCloseTo(projection, offset(1e-4));
            }
        }
        // the weighted error is the tail of D^½·E's spectrum: the least any rank-3 subspace can leave
        double[] scaled = new double[VOCAB * WIDTH];
        for (int i = 0; i < VOCAB; i++) {
            for (int j = 0; j < WIDTH; j++) {
                scaled[i * WIDTH + j] = Math.sqrt(w[i]) * e[i * WIDTH + j];
            }
        }
        double[] s = JacobiSvd.of(scaled, VOCAB, WIDTH).s();
        double tail = 0;
        for (int k = RANK; k < s.length; k++) {
            tail += s[k] * s[k];
        }
        double weightedOwn = weightedError(e, rebuilt, w);
        assertThat(weightedOwn).isCloseTo(tail, offset(1e-4 * tail));

        OnnxModel plain = embedding();
        LowRankFactorizer.factorize(plain, uniform());
        float[] plainRows = rows(plain);
        double weightedPlain = weightedError(e, plainRows, w);
        System.out.printf("rank %d of %d × %d: weighted error token_frequency %.3f (tail %.3f), uniform %.3f; row 5"
                + " (count 1000) %.4f against %.4f%n", RANK, VOCAB, WIDTH, weightedOwn, tail, weightedPlain,
                rowError(e, rebuilt, 5), rowError(e, plainRows, 5));
        assertThat(weightedOwn).isLessThan(weightedPlain);
        assertThat(rowError(e, rebuilt, 5)).isLessThan(0.5 * rowError(e, plainRows, 5));
    }

    @Test
    void equalCountsGiveThePlainFactorisation() throws Exception {
        long[] same = new long[VOCAB];
        java.util.Arrays.fill(same, 3);
        OnnxModel model = embedding();
        LowRankFactorizer.apply(model, weighted(1),
                LowRankFactorizer.analyse(model, weighted(1), null, Map.of("ids", same), (d, t) -> {}));
        OnnxModel plain = embedding();
        LowRankFactorizer.factorize(plain, uniform());
        assertThat(rows(model)).containsExactly(rows(plain), offset(1e-4f));
    }

    @Test
    void idsAreCountedWithoutPadding() throws Exception {
        // two samples of 4 positions; the second is padded after 2 (its padding id 0 is not counted)
        long[] ids = {5, 5, 17, 0, 3, 5, 0, 0};
        long[] mask = {1, 1, 1, 1, 1, 1, 0, 0};
        Path file = dir.resolve("ids.zip");
        Map<String, NpyArray> inputs = new LinkedHashMap<>();
        inputs.put("ids", NpyArray.ofInt64(new long[] {2, 4}, ids));
        inputs.put("attention_mask", NpyArray.ofInt64(new long[] {2, 4}, mask));
        DatasetWriter.write(file, new Dataset(inputs, Optional.empty()));
        long[] expected = new long[VOCAB];
        expected[5] = 3;
        expected[17] = 1;
        expected[0] = 1;
        expected[3] = 1;
        try (DatasetReader reader = DatasetReader.open(file)) {
            assertThat(TokenCounts.count(reader, Map.of("ids", VOCAB), 2).get("ids")).containsExactly(expected);
        }
        long[] first = new long[VOCAB];
        first[5] = 2;
        first[17] = 1;
        first[0] = 1;
        try (DatasetReader reader = DatasetReader.open(file)) {
            assertThat(TokenCounts.count(reader, Map.of("ids", VOCAB), 1).get("ids")).containsExactly(first);
        }
        // ids beyond the table, a missing input, float ids, no samples
        try (DatasetReader reader = DatasetReader.open(file)) {
            assertThatThrownBy(() -> TokenCounts.count(reader, Map.of("ids", 10), 2))
                    .hasMessageContaining("id 17").hasMessageContaining("10 rows");
        }
        try (DatasetReader reader = DatasetReader.open(file)) {
            assertThatThrownBy(() -> TokenCounts.count(reader, Map.of("input_ids", VOCAB), 2))
                    .hasMessageContaining("no input 'input_ids'").hasMessageContaining("ids");
        }
        Path floats = dir.resolve("floats.zip");
        DatasetWriter.write(floats, new Dataset(Map.of("ids", NpyArray.ofFloat32(new long[] {2, 2}, new float[4])),
                Optional.empty()));
        try (DatasetReader reader = DatasetReader.open(floats)) {
            assertThatThrownBy(() -> TokenCounts.count(reader, Map.of("ids", VOCAB), 2))
                    .hasMessageContaining("not integer ids");
        }
        try (DatasetReader reader = DatasetReader.open(file)) {
            assertThatThrownBy(() -> TokenCounts.count(reader, Map.of("ids", VOCAB), 0))
                    .hasMessageContaining("1 to " + InputGrams.MAX_SAMPLES);
        }
    }

    @Test
    void refusals() {
        OnnxModel model = embedding();
        assertThatThrownBy(() -> new LowRankOptions(null, null, Map.of("embed", RANK), Set.of(), LowRankOptions.Method.SVD,
                LowRankOptions.Allocation.ENERGY, false, LowRankOptions.Refinement.NONE,
                LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY, null)).hasMessageContaining("embeddings: true");
        assertThatThrownBy(() -> weighted(0)).hasMessageContaining("frequency_floor must be a finite number above 0");
        assertThatThrownBy(() -> weighted(Double.NaN)).hasMessageContaining("frequency_floor");
        assertThatThrownBy(() -> weighted(-1)).hasMessageContaining("frequency_floor");
        assertThatThrownBy(() -> uniform().withEmbeddingWeights(LowRankOptions.EmbeddingWeights.UNIFORM, 2.0))
                .hasMessageContaining("read only by embedding_weights: token_frequency");
        assertThat(uniform().withEmbeddingWeights(LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY, null).frequencyFloor())
                .isEqualTo(LowRankOptions.DEFAULT_FREQUENCY_FLOOR);
        // no counts, counts of another vocabulary, negative counts
        assertThatThrownBy(() -> LowRankFactorizer.analyse(model, weighted(1), null, null, (d, t) -> {}))
                .hasMessageContaining("give a calibration dataset");
        assertThatThrownBy(() -> LowRankFactorizer.analyse(model, weighted(1), null, Map.of("ids", new long[7]),
                (d, t) -> {})).hasMessageContaining("40 ids").hasMessageContaining("got 7");
        long[] negative = new long[VOCAB];
        negative[3] = -1;
        assertThatThrownBy(() -> LowRankFactorizer.analyse(model, weighted(1), null, Map.of("ids", negative),
                (d, t) -> {})).hasMessageContaining("negative");
        // an analysis with other weights is not applied
        LowRankFactorizer.Analysis plain = LowRankFactorizer.analyse(model, uniform(), null, (d, t) -> {});
        assertThatThrownBy(() -> LowRankFactorizer.apply(model, weighted(1), plain))
                .hasMessageContaining("UNIFORM").hasMessageContaining("TOKEN_FREQUENCY");
        LowRankFactorizer.Analysis floorOne = LowRankFactorizer.analyse(model, weighted(1), null,
                Map.of("ids", counts()), (d, t) -> {});
        assertThatThrownBy(() -> LowRankFactorizer.apply(model, weighted(2), floorOne)).hasMessageContaining("floor 1.0");
        // nothing was rewritten
        assertThat(model.graph().nodes()).hasSize(1);
    }
}
