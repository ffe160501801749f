package dev.anvil.activities.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.convert.ConvertOperator;
import dev.anvil.activities.inspect.OnnxInspector;
import dev.anvil.activities.inspect.StoredModelInspector;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.quantize.QuantizeOperator;
import dev.anvil.activities.validate.ValidateOperator;
import dev.anvil.db.Relation;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.security.ExternalDataModels;
import dev.anvil.workflows.ArtifactRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An uploaded model whose weight names a file in the temporary folder, where the tasks write the models
 * they fetch: inspect, convert, quantize and validate refuse it as bad input (no retry) and publish nothing.
 */
class ExternalDataTasksTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static LocalStackStores stores;
    private static ArtifactIO io;
    private static Path secret;
    private static ArtifactRef model;
    private static String refusal;

    @BeforeAll
    static void plantASecretWhereTasksWriteModels() throws Exception {
        stores = LocalStackStores.open("extdata_tasks", "extdata-tasks-test");
        io = stores.artifactIO(new ObjectMapper());
        secret = Files.createTempFile("anvil-secret-", ".txt");
        Files.writeString(secret, ExternalDataModels.SECRET, StandardCharsets.US_ASCII);
        String name = secret.getFileName().toString();
        Path upload = Files.createTempFile("attack-", ".onnx");
        Files.write(upload, ExternalDataModels.readsFile(name).toByteArray());
        model = stores.upload(upload, ArtifactIO.ONNX_MEDIA_TYPE);
        Files.delete(upload);
        refusal = "external data is not supported: embed the weights (tensor 'W' refers to file '" + name + "')";
    }

    @AfterAll
    static void removeTheSecret() throws Exception {
        Files.deleteIfExists(secret);
    }

    @Test
    void inspectionRefusesIt() {
        StoredModelInspector inspector = new StoredModelInspector(stores.objects(), new OnnxInspector(ENV));
        assertThatThrownBy(() -> inspector.inspect(model)).isInstanceOf(InvalidModelException.class)
                .hasMessage(refusal);
    }

    @Test
    void convertRefusesItAsBadInputAndPublishesNothing() {
        ConvertOperator convert = new ConvertOperator(io, new ModelConverter(ENV));
        Attempt attempt = new Attempt("convert");
        assertThatThrownBy(() -> convert.run(attempt, Map.of("model", model.sha256())))
                .isInstanceOf(InvalidTaskInputException.class).hasMessage("convert: " + refusal);
        assertThat(stores.lineage().edgesOf(attempt.taskRunId)).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    @Test
    void quantizeRefusesItAsBadInputAndPublishesNothing() {
        QuantizeOperator quantize = new QuantizeOperator(io, ENV, Duration.ofSeconds(10));
        Attempt attempt = new Attempt("quantize");
        assertThatThrownBy(() -> quantize.run(attempt, Map.of("model", model.sha256(), "mode", "dynamic")))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining(refusal);
        assertThat(stores.lineage().edgesOf(attempt.taskRunId)).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    @Test
    void validateRefusesItAsBadInputAndPublishesNothing() {
        ValidateOperator validate = new ValidateOperator(io, stores.registry(), ENV);
        Attempt attempt = new Attempt("validate");
        // the dataset is never read: the model is refused first
        assertThatThrownBy(() -> validate.run(attempt, Map.of("model", model.sha256(), "dataset", model.sha256())))
                .isInstanceOf(InvalidTaskInputException.class).hasMessage("validate: " + refusal);
        assertThat(stores.lineage().edgesOf(attempt.taskRunId)).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    private static final class Attempt implements TaskContext {
        final long taskRunId;
        final String task;

        Attempt(String task) {
            String runId = "run-" + UUID.randomUUID();
            stores.runs().create(runId, "test", "{}", "tester");
            this.task = task;
            this.taskRunId = stores.taskRuns().start(runId, task, 1, task, "{}");
        }

        @Override
        public String runId() {
            return "r";
        }

        @Override
        public String taskId() {
            return task;
        }

        @Override
        public long taskRunId() {
            return taskRunId;
        }

        @Override
        public void heartbeat(Object progress) {
        }
    }
}
