package dev.anvil.activities.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.pipeline.EventTriggers;
import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.DatasetStore;
import dev.anvil.db.DriftReport;
import dev.anvil.db.DriftReportStore;
import dev.anvil.db.DriftWindow;
import dev.anvil.db.DriftWindowStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TrafficChange;
import dev.anvil.db.TriggerEventStore;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import io.temporal.testing.TestWorkflowEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift operator against real stores (PostgreSQL, the S3 server) and a Temporal test service: it compares a
 * published live window with a registered reference, names the feature that moved, records the report once,
 * and a detection starts each pipeline listening for it exactly once, with the event as the run's trigger.
 */
class DriftOperatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FEATURES = 4;
    private static LocalStackStores stores;
    private static DriftOperator operator;
    private static DriftWindowStore windows;
    private static DriftReportStore reports;
    private static TriggerEventStore events;
    private static PipelineStore pipelines;
    private static TestWorkflowEnvironment temporal;

    @TempDir
    static Path dir;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("drift_op", "drift-test");
        DatasetStore datasets = new DatasetStore(stores.db());
        windows = new DriftWindowStore(stores.db());
        reports = new DriftReportStore(stores.db());
        events = new TriggerEventStore(stores.db());
        pipelines = new PipelineStore(stores.db());
        temporal = TestWorkflowEnvironment.newInstance(); // only its client: runs are queued, none runs
        EventTriggers triggers = new EventTriggers(pipelines, OperatorRegistry.builtIns(), events,
                new RunLauncher(pipelines, stores.runs(), new dev.anvil.db.RunAdmissionStore(stores.db()), stores.taskRuns(), temporal.getWorkflowClient(),
                        OperatorRegistry.builtIns(), JSON));
        ArtifactIO io = new ArtifactIO(stores.objects(), stores.artifacts(), stores.lineage(), JSON,
                null, datasets);
        EndpointStore endpoints = new EndpointStore(stores.db());
        operator = new DriftOperator(io, endpoints, datasets, windows, new DriftEvents(reports, triggers));

        register(datasets, "iris-ref", reference(FEATURES, 2000, 1));
        register(datasets, "wide-ref", reference(8, 200, 2));
        Path model = Files.writeString(dir.resolve("model.bin"), "not a model: the registry only needs an artifact");
        ArtifactRef artifact = stores.upload(model, "application/octet-stream");
        stores.registry().createModel("iris", null);
        stores.registry().registerVersion("iris", artifact.sha256(), null, null);
        endpoints.put("iris", "iris", 1, null, TrafficChange.byHand("admin", null));
        endpoints.put("quiet", "iris", 1, null, TrafficChange.byHand("admin", null));
    }

    @AfterAll
    static void close() {
        temporal.close();
    }

    @Test
    void stableTrafficIsNotDriftAndIsRecorded() throws Exception {
        publish("iris", live(500, 0.0, 11));
        Map<String, Object> out = operator.run(context(), Map.of("endpoint", "iris", "reference", "iris-ref"));
        assertThat(out.get("drifted")).isEqualTo(false);
        assertThat((List<?>) out.get("moved")).isEmpty();
        @SuppressWarnings("unchecked")
        Map<String, Object> classes = (Map<String, Object>) ((Map<String, Object>) out.get("report")).get("classes");
        assertThat((Boolean) classes.get("drifted")).isFalse();
    }

    @Test
    @SuppressWarnings("unchecked")
    void aShiftedFeatureIsNamedRecordedOnceAndStartsEachListeningPipelineOnce() throws Exception {
        pipelines.register("retrain-iris", """
                pipeline: retrain-iris
                schedule: {cron: "@weekly", on: [{drift: iris}]}
                tasks: {a: {operator: noop}}
                """, "alice");
        pipelines.register("unrelated", """
                pipeline: unrelated
                schedule: {on: [{drift: other-endpoint}, {dataset: iris-ref}]}
                tasks: {a: {operator: noop}}
                """, "alice");
        publish("iris", live(500, 1.5, 12));
        Context context = context();
        Map<String, Object> out = operator.run(context, Map.of("endpoint", "iris", "reference", "iris-ref@1",
                "psi", 0.25, "p_value", "0.001"));
        assertThat(out.get("drifted")).isEqualTo(true);
        assertThat((List<String>) out.get("moved")).containsExactly("features[2]");
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        List<Map<String, Object>> features = (List<Map<String, Object>>) report.get("features");
        assertThat((Double) features.get(2).get("psi")).isGreaterThan(0.25);
        assertThat((Double) features.get(0).get("psi")).isLessThan(0.25);

        // a retried attempt of the same task records nothing new and starts nothing new
        operator.run(context, Map.of("endpoint", "iris", "reference", "iris-ref@1", "psi", 0.25, "p_value", "0.001"));
        List<DriftReport> stored = reports.list("iris", 10).stream()
                .filter(r -> r.runId().equals(context.runId())).toList();
        assertThat(stored).singleElement().satisfies(r -> {
            assertThat(r.drifted()).isTrue();
            assertThat(r.movedFeatures()).containsExactly("features[2]");
        });
        String runId = EventTriggers.runId("retrain-iris", "drift", "drift:iris:" + stored.get(0).id());
        assertThat(stores.runs().list("retrain-iris", null, 10, 0)).extracting(PipelineRun::id).containsExactly(runId);
        assertThat(stores.runs().find(runId)).get().extracting(PipelineRun::submittedBy).isEqualTo("alice");
        assertThat(stores.runs().list("unrelated", null, 10, 0)).isEmpty();
        assertThat(events.findByRun(runId)).get().satisfies(e -> {
            assertThat(e.kind()).isEqualTo("drift");
            assertThat(e.subject()).isEqualTo("iris");
            assertThat(e.startedAt()).isNotNull();
        });
        List<AuditEntry> audit = new AuditLogStore(stores.db()).listBySubject("pipeline:retrain-iris", 10);
        assertThat(audit).extracting(AuditEntry::action).containsExactly(TriggerEventStore.ACTION);
    }

    @Test
    void tooLittleTrafficIsNoVerdictWithAReason() throws Exception {
        publish("quiet", live(20, 0, 13));
        Map<String, Object> out = operator.run(context(), Map.of("endpoint", "quiet", "reference", "iris-ref"));
        assertThat(out.get("drifted")).isNull();
        assertThat(((Map<?, ?>) out.get("report")).get("reason").toString()).contains("only 20 live rows");
        assertThat(reports.list("quiet", 10)).isEmpty();
    }

    @Test
    void aReferenceOfAnotherShapeIsRefusedNamingBothAndNothingIsRecorded() throws Exception {
        publish("quiet", live(500, 0, 14));
        Context context = context();
        assertThatThrownBy(() -> operator.run(context, Map.of("endpoint", "quiet", "reference", "wide-ref")))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("reference wide-ref@1 input 'features' has 8 features per sample (shape [200, 8])")
                .hasMessageContaining("endpoint 'quiet' version 1 input 'features' has 4");
        assertThat(reports.list("quiet", 10)).isEmpty();
        assertThat(new AuditLogStore(stores.db()).listBySubject("endpoint:quiet", 10)).extracting(AuditEntry::action)
                .doesNotContain(DriftReportStore.DETECTED, DriftReportStore.CHECKED);
    }

    @Test
    void badWithIsRefusedClearly() {
        assertThatThrownBy(() -> operator.run(context(), Map.of("endpoint", "nobody", "reference", "iris-ref")))
                .hasMessageContaining("no endpoint named 'nobody'");
        assertThatThrownBy(() -> operator.run(context(), Map.of("endpoint", "iris", "reference", "iris-ref@9")))
                .hasMessageContaining("dataset 'iris-ref' has no version 9");
        assertThatThrownBy(() -> operator.run(context(), Map.of("endpoint", "iris", "reference", "iris-ref",
                "psi", -1))).hasMessageContaining("psi threshold is -1.0");
        assertThatThrownBy(() -> operator.run(context(), Map.of("endpoint", "iris", "reference", "Bad Name")))
                .hasMessageContaining("is not a dataset name");
        assertThatThrownBy(() -> operator.run(context(), Map.of("endpoint", "iris", "reference", "iris-ref",
                "threshold", 1))).hasMessageContaining("does not take with.threshold");
    }

    /** Gaussian features; labels by the largest of features 0..2 (so the classes follow the features). */
    private static Dataset reference(int width, int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n * width];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < width; f++) {
                values[i * width + f] = (float) random.nextGaussian();
            }
            labels[i] = argmax3(values, i * width);
        }
        return new Dataset(Map.of("features", NpyArray.ofFloat32(new long[] {n, width}, values)),
                Optional.of(NpyArray.ofInt64(new long[] {n}, labels)));
    }

    private static long argmax3(float[] v, int from) {
        int best = 0;
        for (int c = 1; c < 3; c++) {
            if (v[from + c] > v[from + best]) {
                best = c;
            }
        }
        return best;
    }

    private static void register(DatasetStore datasets, String name, Dataset dataset) throws Exception {
        Path file = dir.resolve(name + ".zip");
        DatasetWriter.write(file, dataset);
        ArtifactRef ref = stores.upload(file, ArtifactIO.DATASET_MEDIA_TYPE);
        datasets.register(name, ref.sha256(), "npy", "{\"features\": {\"dtype\": \"float32\", \"shape\": ["
                + dataset.inputs().get("features").shape()[1] + "]}}", dataset.sampleCount(), true, "tester");
    }

    /** A live window: rows like the reference with feature 2 shifted by {@code shift}, and their classes. */
    private static DriftWindow live(int n, double shift, long seed) throws Exception {
        Random random = new Random(seed);
        List<float[]> rows = new ArrayList<>();
        long[] classes = new long[3];
        for (int i = 0; i < n; i++) {
            float[] row = new float[FEATURES];
            for (int f = 0; f < FEATURES; f++) {
                row[f] = (float) (random.nextGaussian() + (f == 2 ? shift : 0));
            }
            rows.add(row);
            classes[(int) argmax3(row, 0)]++;
        }
        List<String> names = List.of("features[0]", "features[1]", "features[2]", "features[3]");
        return new DriftWindow("?", 1, "api-1", n, "features", JSON.writeValueAsString(names),
                JSON.writeValueAsString(rows), "[]", List.of(classes[0], classes[1], classes[2]), null);
    }

    private static void publish(String endpoint, DriftWindow w) {
        windows.publish("api-1", List.of(new DriftWindow(endpoint, w.version(), w.processId(), w.seen(), w.inputName(),
                w.featuresJson(), w.sampleJson(), w.histogramsJson(), w.classCounts(), null)));
    }

    private static Context context() {
        String runId = "run-" + UUID.randomUUID();
        stores.runs().create(runId, "monitor", "{}", "tester");
        return new Context(runId, stores.taskRuns().start(runId, "check", 1, "drift", "{}"));
    }

    private record Context(String runId, long taskRunId) implements TaskContext {
        public String taskId() {
            return "check";
        }

        public void heartbeat(Object progress) {
        }
    }
}
