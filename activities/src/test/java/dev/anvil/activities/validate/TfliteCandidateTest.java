package dev.anvil.activities.validate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.Relation;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compile.TfliteConverter;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** validate measures ONNX models only: a .tflite candidate is refused with what to do instead, publishing nothing. */
class TfliteCandidateTest {
    @TempDir
    Path dir;

    @Test
    void aTfliteCandidateIsRefusedWithTheWayToMeasureIt() throws Exception {
        LocalStackStores stores = LocalStackStores.open("validate_tflite", "validate-tflite-test");
        Path tflite = dir.resolve("cnn_mnist.tflite");
        Files.write(tflite, TfliteConverter.convert(OnnxModel.read(SharedData.cnnMnist()),
                TfliteConverter.Precision.FLOAT32).flatbuffer());
        String model = stores.upload(tflite, "application/vnd.tflite").sha256();
        String reference = stores.upload(SharedData.cnnMnist(), "application/octet-stream").sha256();
        String runId = "run-" + UUID.randomUUID();
        stores.runs().create(runId, "test", "{}", "tester");
        long taskRunId = stores.taskRuns().start(runId, "validate", 1, "validate", "{}");
        TaskContext context = new TaskContext() {
            public String runId() { return runId; }
            public String taskId() { return "validate"; }
            public long taskRunId() { return taskRunId; }
            public void heartbeat(Object progress) {}
        };
        ValidateOperator validate = new ValidateOperator(stores.artifactIO(new ObjectMapper()), stores.registry(),
                OrtEnvironment.getEnvironment());

        assertThatThrownBy(() -> validate.run(context, Map.of("model", model, "dataset", reference,
                "reference", reference)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessage("validate: the candidate is a TFLite model, and validate runs ONNX models in ONNX Runtime;"
                        + " measure a .tflite against its ONNX source with compile's dataset verification, or serve it"
                        + " (the gateway serves .tflite) and roll it out as a canary");
        assertThat(stores.lineage().edgesOf(taskRunId)).noneMatch(e -> e.relation() == Relation.GENERATED);
    }
}
