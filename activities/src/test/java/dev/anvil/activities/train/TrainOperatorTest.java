package dev.anvil.activities.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.Relation;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.validate.ModelEvaluator;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The train operator against the real stores of the shared local stack (no Temporal needed). */
class TrainOperatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LocalStackStores stores;
    private static TrainOperator operator;
    private static ArtifactRef cancer;
    private static ArtifactRef cancerTest;
    private static Path cancerTestFile;

    @TempDir
    static Path dir;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("train_op", "train-test");
        operator = new TrainOperator(stores.artifactIO(JSON), OrtEnvironment.getEnvironment());
        Path train = dir.resolve("cancer-train.zip");
        cancerTestFile = dir.resolve("cancer-test.zip");
        new CsvDatasetImporter("float_input").importSplit(SharedData.file("sklearn/breast_cancer.csv"), 1, 450, train,
                cancerTestFile);
        cancer = stores.upload(train, ArtifactIO.DATASET_MEDIA_TYPE);
        cancerTest = stores.upload(cancerTestFile, ArtifactIO.DATASET_MEDIA_TYPE);
    }

    @Test
    @SuppressWarnings("unchecked")
    void trainsPublishesAModelValidateCanRunAndReportsFiguresAndTheLossCurve() throws Exception {
        Context context = context();
        Map<String, Object> outputs = operator.run(context, Map.of("dataset", cancer.sha256(), "validation",
                cancerTest.sha256(), "trainer", "logistic", "params", Map.of("epochs", 6), "features", 30));

        Map<String, Object> metrics = (Map<String, Object>) outputs.get("metrics");
        assertThat((Double) metrics.get("validation.accuracy")).isGreaterThan(0.93);
        assertThat((Double) metrics.get("validation.macro_f1")).isGreaterThan(0.9);
        assertThat((List<Double>) outputs.get("loss_curve")).hasSize(6);
        assertThat(context.heartbeats).filteredOn(h -> h.phase().equals("train") && h.epoch() > 0).hasSize(6);
        Map<String, Object> report = (Map<String, Object>) outputs.get("report");
        assertThat(report).containsEntry("trainer", "logistic").containsEntry("input", "float_input")
                .containsEntry("features", 30).containsEntry("classes", 2);
        assertThat((Map<String, Object>) report.get("params")).containsEntry("epochs", 6).containsEntry("minibatch", 1);
        assertThat(JSON.writeValueAsString(outputs)).as("outputs are plain JSON").contains("\"validation.accuracy\"");

        ArtifactRef model = JSON.convertValue(outputs.get("model"), ArtifactRef.class);
        assertThat(stores.lineage().edgesOf(context.taskRunId)).extracting(LineageEdge::artifactSha256,
                LineageEdge::relation, LineageEdge::role).contains(
                        org.assertj.core.groups.Tuple.tuple(cancer.sha256(), Relation.USED, "dataset"),
                        org.assertj.core.groups.Tuple.tuple(cancerTest.sha256(), Relation.USED, "validation_dataset"),
                        org.assertj.core.groups.Tuple.tuple(model.sha256(), Relation.GENERATED, "model"));
        // validate's evaluator runs it on the held-out dataset as it is: same input name, raw features
        Path file = dir.resolve("trained.onnx");
        stores.objects().copyTo(ArtifactIO.stored(model), file);
        ModelEvaluator.Evaluation e = new ModelEvaluator(OrtEnvironment.getEnvironment()).evaluate(file, cancerTestFile,
                new ModelEvaluator.Options(32, 1, 1, 0, 0, 1));
        assertThat(e.accuracy()).isEqualTo((Double) metrics.get("validation.accuracy"), org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void theSameInputsPublishTheSameModel() throws Exception {
        Map<String, Object> with = Map.of("dataset", cancer.sha256(), "trainer", "fm", "seed", 3);
        Object first = ((Map<?, ?>) operator.run(context(), with).get("model")).get("sha256");
        Object second = ((Map<?, ?>) operator.run(context(), with).get("model")).get("sha256");
        assertThat(second).isEqualTo(first);
    }

    @Test
    void badInputIsNamedAndNothingIsPublished() throws Exception {
        Path unlabelled = dir.resolve("unlabelled.zip");
        DatasetWriter.write(unlabelled, new Dataset(Map.of("float_input",
                NpyArray.ofFloat32(new long[] {4, 2}, new float[8])), Optional.empty()));
        ArtifactRef noLabels = stores.upload(unlabelled, ArtifactIO.DATASET_MEDIA_TYPE);
        Path images = dir.resolve("images.zip");
        DatasetWriter.write(images, Dataset.of(Map.of("input_image", NpyArray.ofFloat32(new long[] {4, 1, 2, 2},
                new float[16])), NpyArray.ofInt64(new long[] {4}, new long[] {0, 1, 0, 1})));
        ArtifactRef image = stores.upload(images, ArtifactIO.DATASET_MEDIA_TYPE);

        expectBadInput(Map.of("dataset", cancer.sha256(), "trainer", "logistic", "features", 20),
                "has 30 feature columns but with.features declares 20");
        expectBadInput(Map.of("dataset", noLabels.sha256(), "trainer", "logistic"), "has no labels.npy");
        expectBadInput(Map.of("dataset", cancer.sha256(), "trainer", "xgboost"), "unknown trainer 'xgboost'");
        expectBadInput(Map.of("dataset", cancer.sha256(), "trainer", "libsvm", "params", Map.of("epochs", 3)),
                "unknown parameter [epochs] for trainer libsvm");
        expectBadInput(Map.of("dataset", image.sha256(), "trainer", "logistic"),
                "input 'input_image' has shape [4, 1, 2, 2]; training takes a table of features");
        expectBadInput(Map.of("dataset", cancer.sha256(), "trainer", "logistic", "epochs", 3),
                "train does not take with.epochs");
        expectBadInput(Map.of("dataset", cancer.sha256(), "validation", image.sha256(), "trainer", "logistic"),
                "with.validation has no input 'float_input'");
    }

    private static void expectBadInput(Map<String, Object> with, String message) {
        Context context = context();
        assertThatThrownBy(() -> operator.run(context, with)).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining(message);
        assertThat(stores.lineage().edgesOf(context.taskRunId)).as("nothing published for " + message)
                .noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    private static Context context() {
        String runId = "run-" + UUID.randomUUID();
        stores.runs().create(runId, "test", "{}", "tester");
        return new Context(runId, stores.taskRuns().start(runId, "train", 1, "train", "{}"));
    }

    private static final class Context implements TaskContext {
        final String runId;
        final long taskRunId;
        final List<TrainOperator.Heartbeat> heartbeats = new ArrayList<>();

        Context(String runId, long taskRunId) {
            this.runId = runId;
            this.taskRunId = taskRunId;
        }

        public String runId() { return runId; }
        public String taskId() { return "train"; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) { heartbeats.add((TrainOperator.Heartbeat) progress); }
    }
}
