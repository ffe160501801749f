package dev.anvil.activities.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.inspect.OnnxInspector;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.Attestations;
import dev.anvil.activities.operators.InspectOperator;
import dev.anvil.activities.operators.Operators;
import dev.anvil.activities.pipeline.TaskActivitiesImpl;
import dev.anvil.activities.runs.RunStateActivitiesImpl;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AttestationStore;
import dev.anvil.db.LineageGraph;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Migrations;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.SharedData;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.inspect.InspectPlan;
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
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The inspect run ({@link InspectPlan}: one inspect task in a pipeline run, as POST /api/models/inspect starts it)
 * end to end over real services: a Temporal frontend, an S3 server and
 * PostgreSQL. Run against the local stack by {@code InspectWorkflowTest} and against the production
 * images by {@code InspectWorkflowIT}, so both prove the same behaviour.
 */
final class InspectScenario implements AutoCloseable {
    private final ObjectStore objects;
    private final ArtifactStore artifacts;
    private final PipelineRunStore runs;
    private final TaskRunStore taskRuns;
    private final LineageStore lineage;
    private final WorkflowServiceStubs stubs;
    private final WorkflowClient client;
    private final WorkerFactory factory;
    private final String queue = "inspect-scenario-" + UUID.randomUUID();

    InspectScenario(String temporalTarget, ObjectStore objects, DataSource db) {
        Migrations.migrate(db);
        this.objects = objects;
        objects.ensureBucket();
        this.artifacts = new ArtifactStore(db);
        this.runs = new PipelineRunStore(db);
        this.taskRuns = new TaskRunStore(db);
        this.lineage = new LineageStore(db);
        this.stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(temporalTarget).build());
        this.client = WorkflowClient.newInstance(stubs);
        this.factory = WorkerFactory.newInstance(client);
        Worker worker = factory.newWorker(queue);
        worker.registerWorkflowImplementationTypes(PipelineWorkflowImpl.class);
        ObjectMapper json = new ObjectMapper();
        ArtifactIO artifactIO = new ArtifactIO(objects, artifacts, lineage, json, new Attestations(
                LocalStackStores.SIGNING_KEY, new AttestationStore(db), taskRuns, runs, new PipelineStore(db), artifacts,
                lineage, json));
        Operators operators = new Operators(
                new InspectOperator(artifactIO, objects, new OnnxInspector(OrtEnvironment.getEnvironment())));
        worker.registerActivitiesImplementations(new TaskActivitiesImpl(operators, taskRuns, lineage, json),
                new RunStateActivitiesImpl(runs));
        factory.start();
    }

    void inspectsTheRealModelWithRunStateAndLineage() throws Exception {
        ArtifactRef model = upload(Files.readAllBytes(SharedData.cnnMnist()));
        String runId = "inspect-" + UUID.randomUUID();
        runs.create(runId, InspectPlan.PIPELINE, "{}", "tester");

        RunState state = run(runId, model);

        assertThat(state.status()).isEqualTo("success");
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) state.tasks().get(0).outputs().get("report");
        assertThat(report.get("opsets")).isEqualTo(Map.of("", 9));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> inputs = (List<Map<String, Object>>) report.get("inputs");
        assertThat(inputs).extracting(i -> i.get("name")).containsExactly("input_image");
        assertThat(runs.find(runId)).get().extracting(PipelineRun::status).isEqualTo("success");
        List<TaskRun> tasks = taskRuns.listByRun(runId);
        assertThat(tasks).singleElement().satisfies(t -> {
            assertThat(t.taskId()).isEqualTo("inspect");
            assertThat(t.status()).isEqualTo("success");
            assertThat(t.metricsJson()).contains("\"parameterCount\"");
        });
        LineageGraph descendants = lineage.descendants(model.sha256()).orElseThrow();
        assertThat(descendants.nodes()).anySatisfy(n -> {
            assertThat(n.kind()).isEqualTo(LineageGraph.NodeKind.TASK_RUN);
            assertThat(n.id()).isEqualTo(Long.toString(tasks.get(0).id()));
        });
    }

    void aCorruptModelFailsOnceWithAClearReason() throws Exception {
        byte[] bytes = Files.readAllBytes(SharedData.cnnMnist());
        ArtifactRef corrupt = upload(Arrays.copyOf(bytes, bytes.length / 4));
        String runId = "inspect-" + UUID.randomUUID();
        runs.create(runId, InspectPlan.PIPELINE, "{}", "tester");

        assertThat(run(runId, corrupt).status()).isEqualTo("failed");

        PipelineRun run = runs.find(runId).orElseThrow();
        assertThat(run.status()).isEqualTo("failed");
        assertThat(run.error()).contains("not an ONNX model");
        assertThat(taskRuns.listByRun(runId)).extracting(TaskRun::attempt).containsExactly(1);
    }

    private ArtifactRef upload(byte[] bytes) throws Exception {
        try (InputStream in = new ByteArrayInputStream(bytes)) {
            ArtifactRef ref = ArtifactIO.ref(objects.put(in, "application/onnx", Optional.empty()).ref());
            artifacts.insert(ref.sha256(), ref.uri(), ref.size(), ref.mediaType(), null);
            return ref;
        }
    }

    /** The plan POST /api/models/inspect runs, its task on this scenario's own queue. */
    private RunState run(String runId, ArtifactRef model) {
        PipelinePlan plan = InspectPlan.of(model.sha256(), "tester");
        List<PlannedTask> onQueue = plan.tasks().stream().map(t -> new PlannedTask(t.id(), t.operator(), t.upstream(),
                t.triggerRule(), t.retries(), t.retryDelay(), t.executionTimeout(), queue, t.with(), t.cache(),
                t.heartbeatTimeout())).toList();
        return client.newWorkflowStub(PipelineWorkflow.class,
                        WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(queue).build())
                .run(new PipelinePlan(plan.pipeline(), plan.pipelineVersion(), plan.params(), onQueue,
                        plan.maxParallelTasks(), plan.submittedBy()));
    }

    @Override
    public void close() {
        factory.shutdownNow();
        stubs.shutdownNow();
    }
}
