package dev.anvil.activities.validate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.onnx.FeedModels;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A validate task on a stateful model (a scalar sample rate, recurrent state batched on axis 1 and fed back from an
 * output), over a dataset whose dataset.json says so, against the local stack's S3 and PostgreSQL.
 */
class StatefulValidateOperatorTest {
    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static TaskRunStore taskRuns;
    static PipelineRunStore runs;
    static ModelRegistryStore registry;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        stores = LocalStackStores.open("validate_stateful", "validate-stateful-test");
        runs = stores.runs();
        taskRuns = stores.taskRuns();
        registry = stores.registry();
        io = stores.artifactIO(JSON);
    }

    record Attempt(long taskRunId) implements TaskContext {
        static Attempt start() {
            String runId = "run-" + UUID.randomUUID();
            runs.create(runId, "test", "{}", "tester");
            return new Attempt(taskRuns.start(runId, "validate", 1, "validate", "{}"));
        }

        public String runId() { return "r"; }
        public String taskId() { return "t"; }
        public void heartbeat(Object progress) { }
    }

    @Test
    @SuppressWarnings("unchecked")
    void validateRunsEveryStepOfAStatefulDatasetAndComparesWithTheReference() throws Exception {
        String model = stores.upload(FeedModels.stateful(dir), "application/octet-stream").sha256();
        Path steps = dir.resolve("steps.zip");
        DatasetWriter.write(steps, FeedModels.recurrentSteps(0f, 5f, 5f, 5f));
        String dataset = stores.upload(steps, "application/octet-stream").sha256();

        Map<String, Object> out = new ValidateOperator(io, registry, OrtEnvironment.getEnvironment()).run(Attempt.start(),
                Map.of("model", model, "dataset", dataset, "reference", model, "registry_model", "nothing-registered",
                        "batch_size", 8));

        Path reportFile = io.fetch(JSON.convertValue(out.get("report"), ArtifactRef.class), ".json");
        Map<String, Object> report = JSON.readValue(reportFile.toFile(), Map.class);
        Files.deleteIfExists(reportFile);
        assertThat(((Map<String, Object>) report.get("candidate")).get("samples")).isEqualTo(4);
        Map<String, Object> input = (Map<String, Object>) ((Map<String, Object>) report.get("references")).get("input");
        assertThat(((Number) input.get("mean_cosine")).doubleValue()).isCloseTo(1.0, within(1e-6));
    }
}
