package dev.anvil.modelkit.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetManifest;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.datasets.NpyDtype;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.quantize.CalibrationMethod;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.modelkit.quantize.Calibrator;
import dev.anvil.modelkit.quantize.QuantizeOptions;
import dev.anvil.modelkit.validate.ModelEvaluator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stateful model with a scalar sample rate and recurrent state batched on axis 1, fed from a dataset: the
 * state each step gets is what the model produced the step before. With x = [1, 0, 0] and W all ones every state
 * element follows h(t) = tanh(h(t-1) + 1) from h = 0, and out = sr · 8 · h(t) with sr = 2:
 * h = 0.76159, 0.94268, 0.95975, so out = 12.1855, 15.0829, 15.3559. Feeding the dataset's h0 at every step
 * instead would give 12.1855 three times.
 */
class StatefulFeedTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    static final double[] HAND = {0.7615941559557649, 0.9426807890983486, 0.9597460317134175};
    static final double[] OUT = {16 * HAND[0], 16 * HAND[1], 16 * HAND[2]};

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void build() throws Exception {
        model = FeedModels.stateful(dir);
    }

    static Dataset recurrent(float... h0) {
        return FeedModels.recurrentSteps(h0);
    }

    static Path write(String name, Dataset dataset) throws Exception {
        Path file = dir.resolve(name);
        DatasetWriter.write(file, dataset);
        return file;
    }

    /** Runs the feed to the end, after skipping {@code skip} samples, and returns out per step. */
    static List<Double> outputs(Path dataset, int skip) throws Exception {
        List<Double> outs = new ArrayList<>();
        try (OrtSession session = ENV.createSession(model.toString());
                DatasetReader reader = DatasetReader.open(dataset);
                DatasetFeed feed = DatasetFeed.open(ENV, session, reader, 32, 0)) {
            assertThat(feed.batchSize()).as("one step at a time").isEqualTo(1);
            feed.skip(skip);
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next();
                        OrtSession.Result result = batch.run(session, Set.of("out"))) {
                    assertThat(batch.size()).isEqualTo(1);
                    if (batch.inputs().containsKey("h0")) { // absent when the state starts from zeros
                        assertThat(batch.inputs().get("h0").getInfo().getShape()).containsExactly(2, 1, 4);
                    }
                    assertThat(batch.inputs().get("sr").getInfo().getShape()).isEmpty();
                    outs.add((double) ((OnnxTensor) result.get(0)).getFloatBuffer().get(0));
                }
            }
        }
        return outs;
    }

    @Test
    void eachStepGetsTheStateTheModelProducedAndTheSampleRateEveryTime() throws Exception {
        // h0 of later samples is 5: were it fed, tanh(6) = 0.99999 would show
        Path dataset = write("recurrent.zip", recurrent(0f, 5f, 5f));
        List<Double> outs = outputs(dataset, 0);
        assertThat(outs).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(outs.get(i)).isCloseTo(OUT[i], within(1e-4));
        }
    }

    @Test
    void aResumedFeedRebuildsTheStateByReplayingTheSkippedSteps() throws Exception {
        Path dataset = write("resumed.zip", recurrent(0f, 5f, 5f));
        assertThat(outputs(dataset, 2)).singleElement().satisfies(out -> assertThat(out).isCloseTo(OUT[2], within(1e-4)));
    }

    @Test
    void stateRestartsFromTheDatasetAtEachSequence() throws Exception {
        Dataset two = recurrent(0f, 5f, 0.5f, 5f);
        Path dataset = write("sequences.zip", two.withManifest(two.manifest().withSequenceLength(2)));
        List<Double> outs = outputs(dataset, 0);
        assertThat(outs).hasSize(4);
        assertThat(outs.get(1)).isCloseTo(OUT[1], within(1e-4));
        assertThat(outs.get(2)).isCloseTo(16 * Math.tanh(1.5), within(1e-4)); // the second sequence starts at h0 = 0.5
        assertThat(outs.get(3)).isCloseTo(16 * Math.tanh(1 + Math.tanh(1.5)), within(1e-4));
        // and a replay after a resume stops at the start of its own sequence
        assertThat(outputs(dataset, 3)).singleElement()
                .satisfies(out -> assertThat(out).isCloseTo(16 * Math.tanh(1 + Math.tanh(1.5)), within(1e-4)));
    }

    @Test
    void stateDeclaredZerosNeedsNoArray() throws Exception {
        Dataset withArray = recurrent(0f, 5f, 5f);
        Map<String, NpyArray> inputs = new LinkedHashMap<>(withArray.inputs());
        inputs.remove("h0");
        Dataset zeros = new Dataset(inputs, Optional.empty(), DatasetManifest.NONE.withBatchAxis("sr", null)
                .withBatchAxis("h0", 1).withState("h0", "hn", DatasetManifest.Initial.ZEROS));
        List<Double> outs = outputs(write("zeros.zip", zeros), 0);
        for (int i = 0; i < 3; i++) {
            assertThat(outs.get(i)).isCloseTo(OUT[i], within(1e-4));
        }
    }

    @Test
    void validateCompareAndCalibrateRunOverTheStatefulDataset() throws Exception {
        Path dataset = write("callers.zip", recurrent(0f, 5f, 5f));

        ModelEvaluator.Evaluation evaluation = new ModelEvaluator(ENV).evaluate(model, dataset,
                new ModelEvaluator.Options(8, 1, 1, 0, 0));
        assertThat(evaluation.samples()).isEqualTo(3);
        assertThat(evaluation.batchSize()).as("latency is per step: the batch actually fed, not the one asked for")
                .isEqualTo(1);

        ModelComparator.Comparison comparison = new ModelComparator(ENV).compare(model, model, dataset,
                ModelComparator.Pooling.NONE, 8, 0, (done, total) -> {});
        assertThat(comparison.samples()).isEqualTo(3);
        assertThat(comparison.minCosine()).isCloseTo(1.0, within(1e-6));

        try (DatasetReader reader = DatasetReader.open(dataset)) {
            Calibrator.Result result = new Calibrator(ENV).calibrate(OnnxModel.read(model), "0".repeat(64),
                    Set.of("hn", "out", "s"), Set.of(), reader, QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX),
                    Optional.empty(), (done, total, state) -> {});
            Map<String, CalibrationTable.Range> ranges = result.table().tensors();
            assertThat(result.samples()).isEqualTo(3);
            // hn is h(t): smallest at the first step, largest at the last, only if it was fed back
            assertThat(ranges.get("hn").seenMin()).isCloseTo(HAND[0], within(1e-5));
            assertThat(ranges.get("hn").seenMax()).isCloseTo(HAND[2], within(1e-5));
            assertThat(ranges.get("s").seenMax()).isCloseTo(1 + HAND[1], within(1e-5));
            assertThat(ranges.get("out").seenMax()).isCloseTo(OUT[2], within(1e-4));
        }
    }

    @Test
    void intBoolAndFloat16InputsAreFedAsTheModelTakesThem() throws Exception {
        Path mixed = FeedModels.mixedTypes(dir);
        ByteBuffer halves = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {0.5f, 0.25f, -1f}) {
            halves.putShort(Fp16Conversions.floatToFp16(v));
        }
        Map<String, NpyArray> inputs = new LinkedHashMap<>();
        inputs.put("flag", NpyArray.ofBool(new long[] {3, 1}, new boolean[] {true, false, true}));
        inputs.put("n", NpyArray.ofInt32(new long[] {3, 1}, new int[] {7, 9, 40}));
        inputs.put("half", new NpyArray(NpyDtype.FLOAT16, new long[] {3, 1}, halves.array()));
        Path dataset = write("mixed.zip", new Dataset(inputs, Optional.empty()));
        List<Float> outs = new ArrayList<>();
        try (OrtSession session = ENV.createSession(mixed.toString());
                DatasetReader reader = DatasetReader.open(dataset);
                DatasetFeed feed = DatasetFeed.open(ENV, session, reader, 2, 0)) {
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next();
                        OrtSession.Result result = batch.run(session, Set.of("out"))) {
                    var buffer = ((OnnxTensor) result.get(0)).getFloatBuffer();
                    while (buffer.hasRemaining()) {
                        outs.add(buffer.get());
                    }
                }
            }
        }
        assertThat(outs).containsExactly(7.5f, 0.25f, 39f);

        inputs.put("n", NpyArray.ofInt64(new long[] {3, 1}, new long[] {7, 9, 40}));
        Path wrongType = write("mixed-int64.zip", new Dataset(inputs, Optional.empty()));
        assertThatThrownBy(() -> open(mixed, wrongType)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("dataset array 'n' is <i8 but model input 'n' takes INT32")
                .hasMessageContaining("astype('<i4')");
    }

    @Test
    void aStateOutputTheModelLacksIsNamedWithTheOutputsItHas() throws Exception {
        Dataset base = recurrent(0f, 0f);
        Path dataset = write("no-output.zip", base.withManifest(base.manifest().withState("h0", "h_next",
                DatasetManifest.Initial.DATASET)));
        assertThatThrownBy(() -> open(model, dataset)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("output 'h_next', which the model does not have; its outputs are")
                .hasMessageContaining("hn");
    }

    @Test
    void aStateOutputOfAnotherShapeThanItsInputIsRefused() throws Exception {
        Dataset base = recurrent(0f, 0f);
        Path dataset = write("bad-shape.zip", base.withManifest(base.manifest().withState("h0", "out",
                DatasetManifest.Initial.DATASET)));
        assertThatThrownBy(() -> open(model, dataset)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("state input 'h0' is [2, ?, 4] but output 'out' is [?]");
    }

    @Test
    void stateForAnInputTheModelLacksIsRefused() throws Exception {
        Dataset base = recurrent(0f, 0f);
        Map<String, NpyArray> inputs = new LinkedHashMap<>(base.inputs());
        inputs.put("c0", base.inputs().get("h0"));
        Path dataset = write("no-input.zip", new Dataset(inputs, Optional.empty(),
                base.manifest().withState("c0", "hn", DatasetManifest.Initial.DATASET)));
        assertThatThrownBy(() -> open(model, dataset)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("declares state for 'c0', which is not an input of the model");
    }

    @Test
    void theFirstShapeMismatchIsNamedWithTheBatchAxisInPlace() throws Exception {
        Map<String, NpyArray> inputs = new LinkedHashMap<>(recurrent(0f, 0f).inputs());
        inputs.put("h0", NpyArray.ofFloat32(new long[] {2, 2, 5}, new float[20]));
        Path dataset = write("wide.zip", new Dataset(inputs, Optional.empty(), recurrent(0f).manifest()));
        assertThatThrownBy(() -> open(model, dataset)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("dataset array 'h0' is fed as [2, ?, 5]")
                .hasMessageContaining("axis 2 is 5 in the dataset and 4 in the model");

        inputs.put("h0", NpyArray.ofFloat32(new long[] {2, 2, 4}, new float[16]));
        inputs.put("sr", NpyArray.ofInt64(new long[] {1}, new long[] {2}));
        Path vector = write("vector-sr.zip", new Dataset(inputs, Optional.empty(), recurrent(0f).manifest()));
        assertThatThrownBy(() -> open(model, vector)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("dataset array 'sr' is constant (batch_axis null) and fed as it is, [1],"
                        + " but model input 'sr' is []");
    }

    @Test
    void aConstantInputIsFedUnchangedWithEveryBatchOfAStatelessModel() throws Exception {
        Path mixed = FeedModels.mixedTypes(dir);
        Map<String, NpyArray> inputs = new LinkedHashMap<>();
        inputs.put("flag", NpyArray.ofBool(new long[] {1, 1}, new boolean[] {true}));
        inputs.put("n", NpyArray.ofInt32(new long[] {5, 1}, new int[] {1, 2, 3, 4, 5}));
        inputs.put("half", new NpyArray(NpyDtype.FLOAT16, new long[] {1, 1}, new byte[2]));
        Dataset constants = new Dataset(inputs, Optional.empty(),
                DatasetManifest.NONE.withBatchAxis("flag", null).withBatchAxis("half", null));
        Path dataset = write("constants.zip", constants);
        List<Float> outs = new ArrayList<>();
        try (OrtSession session = ENV.createSession(mixed.toString());
                DatasetReader reader = DatasetReader.open(dataset);
                DatasetFeed feed = DatasetFeed.open(ENV, session, reader, 2, 0)) {
            assertThat(feed.total()).isEqualTo(5);
            while (feed.hasNext()) {
                // a constant [1, 1] broadcasts against each batch of n: batches of 2, 2 and 1
                try (DatasetFeed.Batch batch = feed.next();
                        OrtSession.Result result = batch.run(session, Set.of("out"))) {
                    var buffer = ((OnnxTensor) result.get(0)).getFloatBuffer();
                    while (buffer.hasRemaining()) {
                        outs.add(buffer.get());
                    }
                }
            }
        }
        assertThat(outs).containsExactly(1f, 2f, 3f, 4f, 5f);
    }

    private static void open(Path modelFile, Path dataset) throws Exception {
        try (OrtSession session = ENV.createSession(modelFile.toString());
                DatasetReader reader = DatasetReader.open(dataset);
                DatasetFeed feed = DatasetFeed.open(ENV, session, reader, 4, 0)) {
            feed.hasNext();
        }
    }
}
