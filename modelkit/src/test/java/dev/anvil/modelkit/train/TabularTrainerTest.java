package dev.anvil.modelkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TabularTrainerTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static TrainingData iris;
    private static TrainingData cancer;

    @BeforeAll
    static void read() throws Exception {
        Dataset i = new CsvDatasetImporter("float_input").read(SharedData.file("sklearn/iris.csv"));
        iris = TabularDatasets.read(i, null, 4, TrainTask.CLASSIFICATION, null, "iris");
        Dataset c = new CsvDatasetImporter("float_input").read(SharedData.file("sklearn/breast_cancer.csv"));
        cancer = TabularDatasets.read(c, null, null, TrainTask.CLASSIFICATION, null, "cancer");
    }

    private static TabularTrainer.Result train(TrainingData data, String trainer, Map<String, ?> params, TrainTask task)
            throws Exception {
        List<TrainingData> parts = TabularDatasets.split(data, 0.25, 7);
        TrainerSpec spec = TrainerSpec.parse(trainer, task, params);
        return new TabularTrainer(ENV).train(parts.get(0), Optional.of(parts.get(1)),
                new TabularTrainer.Options(spec, 42, "float_input", true), (p, e, n, l) -> {});
    }

    @Test
    void everyTrainerLearnsIrisAndExportsAModelNamedAfterTheDatasetInput() throws Exception {
        for (String trainer : List.of("logistic", "linear_sgd", "fm", "liblinear", "libsvm", "bagging", "adaboost")) {
            TabularTrainer.Result r = train(iris, trainer, Map.of(), TrainTask.CLASSIFICATION);
            assertThat((Double) r.validation().orElseThrow().get("accuracy")).as(trainer).isGreaterThan(0.85);
            assertThat(r.classes()).isEqualTo(3);
            OnnxModel model = OnnxModel.parse(r.onnx());
            assertThat(model.build().getGraph().getInput(0).getName()).isEqualTo("float_input");
            assertThat(model.build().getMetadataPropsList()).isEmpty();
        }
    }

    @Test
    void sgdTrainersReportALossCurvePerEpoch() throws Exception {
        TabularTrainer.Result r = train(cancer, "logistic", Map.of("epochs", 8), TrainTask.CLASSIFICATION);
        assertThat(r.lossCurve()).hasSize(8);
        assertThat(r.lossCurve().get(7)).isLessThan(r.lossCurve().get(0));
        assertThat((Double) r.validation().orElseThrow().get("accuracy")).isGreaterThan(0.93);
        assertThat((Double) r.validation().orElseThrow().get("macro_f1")).isGreaterThan(0.9);
        assertThat(train(cancer, "libsvm", Map.of(), TrainTask.CLASSIFICATION).lossCurve()).isEmpty();
    }

    @Test
    void theSameInputsGiveTheSameModelBytes() throws Exception {
        for (String trainer : List.of("logistic", "fm", "liblinear", "libsvm", "bagging")) {
            byte[] first = train(iris, trainer, Map.of(), TrainTask.CLASSIFICATION).onnx();
            byte[] second = train(iris, trainer, Map.of(), TrainTask.CLASSIFICATION).onnx();
            assertThat(second).as(trainer).isEqualTo(first);
        }
    }

    @Test
    void regressionReportsRmseAndR2() throws Exception {
        // iris: predict petal width (column 4) from the other three
        float[][] x = new float[iris.samples()][];
        double[] y = new double[iris.samples()];
        for (int i = 0; i < x.length; i++) {
            float[] row = iris.features()[i];
            x[i] = new float[] {row[0], row[1], row[2]};
            y[i] = row[3];
        }
        TrainingData widths = new TrainingData(x, null, y, Optional.empty());
        for (String trainer : List.of("linear_sgd", "fm", "liblinear", "libsvm", "bagging")) {
            TabularTrainer.Result r = train(widths, trainer, Map.of(), TrainTask.REGRESSION);
            Map<String, Object> v = r.validation().orElseThrow();
            assertThat((Double) v.get("r2")).as(trainer).isGreaterThan(0.8);
            assertThat((Double) v.get("rmse")).as(trainer).isLessThan(0.35);
        }
    }

    @Test
    void unknownTrainersAndParametersAreNamed() {
        assertThatThrownBy(() -> TrainerSpec.parse("xgboost", TrainTask.CLASSIFICATION, Map.of()))
                .hasMessageContaining("unknown trainer 'xgboost'").hasMessageContaining("logistic");
        assertThatThrownBy(() -> TrainerSpec.parse("logistic", TrainTask.CLASSIFICATION, Map.of("epoch", 3, "lr", 1)))
                .hasMessageContaining("unknown parameters [epoch, lr]").hasMessageContaining("epochs");
        assertThatThrownBy(() -> TrainerSpec.parse("libsvm", TrainTask.CLASSIFICATION, Map.of("kernel", "cubic")))
                .hasMessageContaining("kernel must be one of [rbf, linear, poly, sigmoid]");
        assertThatThrownBy(() -> TrainerSpec.parse("logistic", TrainTask.CLASSIFICATION, Map.of("epochs", 0)))
                .hasMessageContaining("epochs must be between 1 and 10000");
        assertThatThrownBy(() -> TrainerSpec.parse("bagging", TrainTask.CLASSIFICATION,
                Map.of("base_params", Map.of("cost", 2)))).hasMessageContaining("base_params").hasMessageContaining("cost");
    }

    @Test
    void softLabelsAreLearntByWeightedExamples() throws Exception {
        // a "teacher" that is sure of the true class: learning its probabilities is learning the labels
        List<float[]> probs = new ArrayList<>();
        for (int c : iris.classes()) {
            float[] p = {0.05f, 0.05f, 0.05f};
            p[c] = 0.9f;
            probs.add(p);
        }
        TrainingData soft = new TrainingData(iris.features(), iris.classes(), null,
                Optional.of(probs.toArray(new float[0][])));
        TabularTrainer.Result r = train(soft, "logistic", Map.of(), TrainTask.CLASSIFICATION);
        assertThat(r.softLabelsUsed()).isTrue();
        assertThat((Double) r.validation().orElseThrow().get("teacher_agreement")).isGreaterThan(0.85);
        TabularTrainer.Result svm = train(soft, "libsvm", Map.of(), TrainTask.CLASSIFICATION);
        assertThat(svm.softLabelsUsed()).isFalse();
        assertThat(svm.notes()).anySatisfy(n -> assertThat(n).contains("learnt the hard labels"));
    }
}
