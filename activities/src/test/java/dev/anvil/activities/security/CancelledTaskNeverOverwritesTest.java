package dev.anvil.activities.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.Operators;
import dev.anvil.activities.operators.SleepOperator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.pipeline.TaskActivitiesImpl;
import dev.anvil.activities.runs.RunStateActivitiesImpl;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.PipelineWorkflowImpl;
import dev.anvil.workflows.pipeline.PlannedTask;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cancelled task's activity kept running and later overwrote its "failed: cancelled with the run"
 * record with success. Here a run is cancelled while its task sleeps, on the real dev server with the
 * real workflow, activities and PostgreSQL: the attempt learns of the cancel from its heartbeat, stops,
 * and the record the cancel wrote is the one that stays.
 */
class CancelledTaskNeverOverwritesTest {
    private static final String QUEUE = "cancelled-task-" + UUID.randomUUID();
    /** How the sleep ended: "completed" or "stopped: ..." (the cancel reached it). */
    private static final AtomicReference<String> ended = new AtomicReference<>();

    private static WorkflowServiceStubs stubs;
    private static WorkflowClient client;
    private static WorkerFactory factory;
    private static PipelineRunStore runs;
    private static TaskRunStore taskRuns;

    @BeforeAll
    static void start() throws Exception {
        LocalStackStores stores = LocalStackStores.open("cancelled_task", "cancelled-task-test");
        runs = stores.runs();
        taskRuns = stores.taskRuns();
        stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
                .setTarget(SharedLocalStack.get().temporalTarget()).build());
        client = WorkflowClient.newInstance(stubs);
        factory = WorkerFactory.newInstance(client);
        // the API's worker settings: heartbeats reach Temporal (and bring a cancel back) every 3 s
        Worker worker = factory.newWorker(QUEUE, WorkerOptions.newBuilder()
                .setDefaultHeartbeatThrottleInterval(Duration.ofSeconds(3))
                .setMaxHeartbeatThrottleInterval(Duration.ofSeconds(3)).build());
        worker.registerWorkflowImplementationTypes(PipelineWorkflowImpl.class);
        worker.registerActivitiesImplementations(
                new TaskActivitiesImpl(new Operators(new WatchedSleep()), taskRuns, stores.lineage(), new ObjectMapper()),
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
    void aCancelledSleepStopsAndItsCancelledRecordStays() {
        String runId = "cancelled-" + UUID.randomUUID();
        runs.create(runId, "test", 1, "{}", "tester");
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(QUEUE).build());
        WorkflowClient.start(workflow::run, new PipelinePlan("test", 1, Map.of(), List.of(new PlannedTask("wait", "sleep",
                List.of(), "all_success", 0, Duration.ofSeconds(1), Duration.ofMinutes(2), QUEUE,
                Map.of("seconds", 12), false)), 8, "tester"));
        await("the sleep is running").atMost(Duration.ofSeconds(20))
                .until(() -> taskRuns.listByRun(runId).stream().anyMatch(t -> t.status().equals("running")));

        WorkflowStub.fromTyped(workflow).cancel();

        await("the run is cancelled").atMost(Duration.ofSeconds(20))
                .until(() -> runs.find(runId).orElseThrow().status().equals("cancelled"));
        await("the attempt ended").atMost(Duration.ofSeconds(20)).until(() -> ended.get() != null);
        assertThat(ended.get()).as("the cancel reached the activity, which stopped").startsWith("stopped");
        List<TaskRun> attempts = taskRuns.listByRun(runId);
        assertThat(attempts).hasSize(1);
        assertThat(attempts.get(0).status()).isEqualTo("failed");
        assertThat(attempts.get(0).error()).isEqualTo("cancelled with the run");
        assertThat(attempts.get(0).metricsJson()).isNull();
    }

    /** The sleep operator, noting how its attempt ended. */
    static final class WatchedSleep implements Operator {
        private final SleepOperator sleep = new SleepOperator();

        @Override
        public dev.anvil.workflows.pipeline.spec.OperatorDescriptor descriptor() {
            return sleep.descriptor();
        }

        @Override
        public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
            try {
                Map<String, Object> out = sleep.run(context, with);
                ended.set("completed");
                return out;
            } catch (Exception e) {
                ended.set("stopped: " + e);
                throw e;
            }
        }
    }
}
