package dev.anvil.activities.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Teacher → student on digits: an RBF LibSVM teacher labels the training rows, a logistic-regression student learns
 * its probabilities; the student's figures on held-out rows are printed (docs/training.md quotes them).
 */
class DistillationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LocalStackStores stores;
    private static TrainOperator train;
    private static LabelOperator label;
    private static ArtifactRef digits;
    private static ArtifactRef digitsTest;

    @TempDir
    static Path dir;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("distil", "distil-test");
        ArtifactIO io = stores.artifactIO(JSON);
        train = new TrainOperator(io, OrtEnvironment.getEnvironment());
        label = new LabelOperator(io, OrtEnvironment.getEnvironment());
        Path a = dir.resolve("digits-train.zip");
        Path b = dir.resolve("digits-test.zip");
        new CsvDatasetImporter("float_input").importSplit(SharedData.file("sklearn/digits.csv.gz"), 1, 1347, a, b);
        digits = stores.upload(a, ArtifactIO.DATASET_MEDIA_TYPE);
        digitsTest = stores.upload(b, ArtifactIO.DATASET_MEDIA_TYPE);
    }

    @Test
    @SuppressWarnings("unchecked")
    void aStudentLearnsTheTeachersProbabilities() throws Exception {
        Map<String, Object> teacher = train.run(context(), Map.of("dataset", digits.sha256(), "validation",
                digitsTest.sha256(), "trainer", "libsvm", "params", Map.of("kernel", "rbf", "cost", 10)));
        Map<String, Object> labelled = label.run(context(), Map.of("model", teacher.get("model"), "dataset",
                digits.sha256(), "temperature", 0.5));
        Map<String, Object> labelReport = (Map<String, Object>) labelled.get("report");
        assertThat(labelReport).containsEntry("classes", 10).containsEntry("samples", 1347);

        Map<String, Object> student = train.run(context(), Map.of("dataset", labelled.get("dataset"), "soft_labels",
                labelled.get("soft_labels"), "validation", digitsTest.sha256(), "trainer", "logistic",
                "params", Map.of("epochs", 10)));
        Map<String, Object> report = (Map<String, Object>) student.get("report");
        assertThat(report).containsEntry("soft_labels_used", true);
        Map<String, Object> t = (Map<String, Object>) ((Map<String, Object>) teacher.get("report")).get("validation");
        Map<String, Object> s = (Map<String, Object>) report.get("validation");
        Map<String, Object> st = (Map<String, Object>) report.get("train");
        long teacherBytes = ((Number) ((Map<String, Object>) teacher.get("model")).get("size")).longValue();
        long studentBytes = ((Number) ((Map<String, Object>) student.get("model")).get("size")).longValue();
        System.out.printf("distillation digits: teacher libsvm rbf %d bytes, held-out accuracy %s; label %s;"
                        + " student logistic %d bytes, held-out accuracy %s, macro F1 %s, agreement with the teacher"
                        + " on its training rows %s%n", teacherBytes, t.get("accuracy"), labelReport, studentBytes,
                s.get("accuracy"), s.get("macro_f1"), st.get("teacher_agreement"));
        Map<String, Object> hard = train.run(context(), Map.of("dataset", labelled.get("dataset"), "validation",
                digitsTest.sha256(), "trainer", "logistic", "params", Map.of("epochs", 10)));
        System.out.printf("distillation digits: the same student on the teacher's hard labels: held-out %s%n",
                ((Map<String, Object>) hard.get("report")).get("validation"));
        assertThat((Double) t.get("accuracy")).isGreaterThan(0.95);
        assertThat((Double) st.get("teacher_agreement")).isGreaterThan(0.85);
        assertThat((Double) s.get("accuracy")).isGreaterThan(0.85);
        assertThat(studentBytes).isLessThan(teacherBytes);

        // a trainer that ignores example weights learns the hard labels and says so
        Map<String, Object> svm = train.run(context(), Map.of("dataset", labelled.get("dataset"), "soft_labels",
                labelled.get("soft_labels"), "trainer", "liblinear"));
        assertThat(((Map<String, Object>) svm.get("report")).get("soft_labels_used")).isEqualTo(false);
        assertThat(svm.get("warnings").toString()).contains("learnt the hard labels");
    }

    @Test
    void labelRefusesBadSettings() {
        assertThatThrownBy(() -> label.run(context(), Map.of("model", digits.sha256(), "dataset", digits.sha256(),
                "temperature", 0))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("with.temperature must be a number above 0");
        assertThatThrownBy(() -> label.run(context(), Map.of("model", digits.sha256(), "dataset", digits.sha256(),
                "soft", true))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("label does not take with.soft");
    }

    private static TaskContext context() {
        String runId = "run-" + UUID.randomUUID();
        stores.runs().create(runId, "test", "{}", "tester");
        long id = stores.taskRuns().start(runId, "t", 1, "train", "{}");
        return new TaskContext() {
            public String runId() { return runId; }
            public String taskId() { return "t"; }
            public long taskRunId() { return id; }
            public void heartbeat(Object progress) {}
        };
    }
}
