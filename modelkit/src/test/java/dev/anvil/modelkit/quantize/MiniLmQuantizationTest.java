package dev.anvil.modelkit.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.convert.ConversionOptions;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.convert.OptimizationLevel;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference on a real transformer: Anvil's dynamic and static INT8 all-MiniLM-L6-v2 must be at
 * least as close to FP32 (mean cosine of sentence embeddings) as the published INT8 twin, on the same
 * held-out SpamAssassin texts, and no larger. Latency is compared by bench/quantize.sh, not here.
 */
class MiniLmQuantizationTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    @TempDir
    static Path dir;
    static Path fp32;
    static Path twin;
    static Path calibration;
    static Path evaluation;
    static ModelComparator.Comparison twinScore;

    @BeforeAll
    static void prepare() throws Exception {
        fp32 = copy("/all-minilm-l6-v2.onnx", "minilm.onnx");
        twin = copy("/all-minilm-l6-v2-q.onnx", "minilm-q.onnx");
        Path tokenizer = copy("/all-minilm-l6-v2-tokenizer.json", "tokenizer.json");
        calibration = dir.resolve("cal.zip");
        Path rest = dir.resolve("rest.zip");
        try (TextDatasetImporter importer = new TextDatasetImporter(tokenizer)) {
            importer.importSplit(SharedData.file("spamassassin/spamassassin_6046.tsv.gz"), 42, 256, calibration, rest);
        }
        Dataset all;
        try (DatasetReader r = DatasetReader.open(rest)) {
            all = r.readAll();
        }
        evaluation = dir.resolve("eval.zip");
        DatasetWriter.write(evaluation, all.split(300).get(0));
        twinScore = compare(twin);
    }

    @Test
    void dynamicMatchesOrBeatsThePublishedTwin() throws Exception {
        OnnxModel model = OnnxModel.read(fp32);
        QuantizeOptions options = QuantizeOptions.dynamicDefaults();
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        assertThat(plan.targetsByOpType()).containsEntry("MatMul", 36).containsEntry("Gather", 3);
        ModelQuantizer.applyDynamic(model, plan, options);
        Path out = dir.resolve("dynamic.onnx");
        model.write(out);
        ModelComparator.Comparison c = compare(out);
        System.out.printf("MiniLM dynamic: mean cosine %.4f (twin %.4f), min %.4f (twin %.4f), size %d (twin %d)%n",
                c.meanCosine(), twinScore.meanCosine(), c.minCosine(), twinScore.minCosine(), Files.size(out),
                Files.size(twin));
        assertThat(c.meanCosine()).isGreaterThanOrEqualTo(twinScore.meanCosine());
        assertThat(Files.size(out)).isLessThanOrEqualTo(Files.size(twin));
    }

    @Test
    void staticAfterConvertingToOpset13MatchesOrBeatsThePublishedTwin() throws Exception {
        Path converted = dir.resolve("minilm-13.onnx");
        new ModelConverter(ENV).convert(fp32, converted,
                new ConversionOptions(OptionalLong.of(13), OptimizationLevel.NONE, false));
        OnnxModel model = OnnxModel.read(converted);
        QuantizeOptions options = QuantizeOptions.staticDefaults(CalibrationMethod.PERCENTILE).withBatchSize(16);
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        Calibrator.Result calibrated;
        try (DatasetReader reader = DatasetReader.open(calibration)) {
            calibrated = new Calibrator(ENV).calibrate(model, "minilm", plan.activationTensors(), reader, options,
                    Optional.empty(), (d, t, s) -> {});
        }
        ModelQuantizer.applyStatic(model, plan, calibrated.table(), options);
        Path out = dir.resolve("static.onnx");
        model.write(out);
        ModelComparator.Comparison c = compare(out);
        System.out.printf("MiniLM static: mean cosine %.4f (twin %.4f), min %.4f (twin %.4f), size %d (twin %d)%n",
                c.meanCosine(), twinScore.meanCosine(), c.minCosine(), twinScore.minCosine(), Files.size(out),
                Files.size(twin));
        assertThat(c.meanCosine()).isGreaterThanOrEqualTo(twinScore.meanCosine());
        assertThat(Files.size(out)).isLessThanOrEqualTo(Files.size(twin));
    }

    private static ModelComparator.Comparison compare(Path candidate) throws Exception {
        return new ModelComparator(ENV).compare(candidate, fp32, evaluation, ModelComparator.Pooling.MEAN, 16, 0,
                (d, t) -> {});
    }

    private static Path copy(String resource, String name) throws Exception {
        Path target = dir.resolve(name);
        try (InputStream in = MiniLmQuantizationTest.class.getResourceAsStream(resource)) {
            assertThat(in).as("test resource " + resource + " (langchain4j test dependency)").isNotNull();
            Files.copy(in, target);
        }
        return target;
    }
}
