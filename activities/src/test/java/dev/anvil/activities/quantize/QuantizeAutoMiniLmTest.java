package dev.anvil.activities.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.convert.ConversionOptions;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.convert.OptimizationLevel;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code method: auto} on all-MiniLM-L6-v2 (opset 13), calibrated on 256 SpamAssassin texts of which 51
 * are held out, compared as mean-pooled sentence embeddings. About two minutes on two cores, so it runs
 * only when asked: {@code -Danvil.slow=true}. Its figures are in docs/quantization.md.
 */
@EnabledIfSystemProperty(named = "anvil.slow", matches = "true")
class QuantizeAutoMiniLmTest {
    @TempDir
    static Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void methodAutoOnMiniLmReportsTheThreeMethodsAndKeepsOneAboveTheFloor() throws Exception {
        LocalStackStores stores = LocalStackStores.open("quantize_minilm", "quantize-minilm-test");
        PipelineRunStore runs = stores.runs();
        TaskRunStore taskRuns = stores.taskRuns();
        Path fp32 = copy("/all-minilm-l6-v2.onnx", "minilm.onnx");
        Path tokenizer = copy("/all-minilm-l6-v2-tokenizer.json", "tokenizer.json");
        Path converted = dir.resolve("minilm-13.onnx");
        new ModelConverter(OrtEnvironment.getEnvironment()).convert(fp32, converted,
                new ConversionOptions(OptionalLong.of(13), OptimizationLevel.NONE, false));
        Path calibration = dir.resolve("cal.zip");
        try (TextDatasetImporter importer = new TextDatasetImporter(tokenizer)) {
            importer.importSplit(SharedData.file("spamassassin/spamassassin_6046.tsv.gz"), 42, 256, calibration,
                    dir.resolve("rest.zip"));
        }
        String model = stores.upload(converted, "application/octet-stream").sha256();
        String texts = stores.upload(calibration, "application/octet-stream").sha256();
        String runId = "run-" + UUID.randomUUID();
        runs.create(runId, "test", "{}", "tester");
        long taskRunId = taskRuns.start(runId, "quantize", 1, "quantize", "{}");
        TaskContext context = new TaskContext() {
            public String runId() { return runId; }
            public String taskId() { return "quantize"; }
            public long taskRunId() { return taskRunId; }
            public void heartbeat(Object progress) { }
        };
        QuantizeOperator operator = new QuantizeOperator(stores.artifactIO(new ObjectMapper()),
                OrtEnvironment.getEnvironment(), Duration.ofSeconds(30));
        long started = System.nanoTime();
        Map<String, Object> out = operator.run(context, Map.of("model", model, "dataset", texts, "method", "auto",
                "batch_size", 16, "evaluation", Map.of("pooling", "mean")));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        System.out.printf("method auto on MiniLM (%.1f s): %s%nevaluation: %s%nlatency: %s speedup %s%nwarnings: %s%n"
                + "calibration: %s size %s -> %s%n", (System.nanoTime() - started) / 1e9, report.get("method_auto"),
                report.get("evaluation"), report.get("latency_ms"), report.get("speedup"), report.get("warnings"),
                report.get("calibration"), report.get("size_before"), report.get("size_after"));
        Map<String, Object> auto = (Map<String, Object>) report.get("method_auto");
        List<Map<String, Object>> methods = (List<Map<String, Object>>) auto.get("methods");
        assertThat(methods).extracting(m -> m.get("method")).containsExactly("minmax", "percentile", "entropy");
        assertThat(methods).allSatisfy(m -> assertThat(m).containsKeys("mean_cosine", "min_cosine", "size_bytes", "p50_ms")
                .doesNotContainKey("top1_agreement"));
        Map<String, Object> floor = (Map<String, Object>) report.get("floor");
        assertThat(floor).containsEntry("passed", true);
        assertThat(((Map<String, Object>) ((List<?>) floor.get("rules")).get(0))).containsEntry("figure", "mean_cosine");
    }

    private static Path copy(String resource, String name) throws Exception {
        Path target = dir.resolve(name);
        try (InputStream in = QuantizeAutoMiniLmTest.class.getResourceAsStream(resource)) {
            assertThat(in).as("test resource " + resource + " (langchain4j test dependency)").isNotNull();
            Files.copy(in, target);
        }
        return target;
    }
}
