package dev.anvil.activities.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.Timestamps;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.Operators;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.runs.RunStateActivitiesImpl;
import dev.anvil.db.TaskRun;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.PipelineWorkflowImpl;
import dev.anvil.workflows.pipeline.PlannedTask;
import dev.anvil.workflows.pipeline.RunState;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A worker process that dies in the middle of a long task, on the real port-bound Temporal server of the local
 * stack: while the worker lives, its attempt outlives many heartbeat timeouts (the worker heartbeats for an
 * operator inside one long call); once it is gone, Temporal notices within the heartbeat timeout and another
 * worker runs the task. The task's execution timeout (10 minutes) is far past this test's own limit, so a
 * retry that waited for it would fail the test.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeadWorkerRetryTest {
    // long enough that a loaded CI machine does not starve a keep-alive past it, short enough for a quick test
    private static final Duration HEARTBEAT = Duration.ofSeconds(5);
    private static final OperatorDescriptor HOLD = new OperatorDescriptor("hold", TaskQueues.CPU, Map.of(), false)
            .withHeartbeatTimeout(HEARTBEAT);
    private static LocalStackStores stores;

    private final String workflowQueue = "dead-worker-wf-" + UUID.randomUUID();
    private final String taskQueue = "dead-worker-tasks-" + UUID.randomUUID();
    /** Let go of the first attempt's thread, which ignores interrupts as a native call would. */
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch firstAttemptStarted = new CountDownLatch(1);
    private volatile String firstAttemptOn;
    private WorkerProcess engine;
    private WorkerProcess one;
    private WorkerProcess two;

    @BeforeAll
    static void openStores() throws Exception {
        stores = LocalStackStores.open("dead_worker", "dead-worker-test");
    }

    @BeforeEach
    void startWorkers() {
        ObjectMapper json = new ObjectMapper();
        // the workflow, its state writes and its records on a process that stays up
        engine = new WorkerProcess(workflowQueue, worker -> {
            worker.registerWorkflowImplementationTypes(PipelineWorkflowImpl.class);
            worker.registerActivitiesImplementations(
                    new TaskActivitiesImpl(new Operators(), stores.taskRuns(), stores.lineage(), json),
                    new RunStateActivitiesImpl(stores.runs()));
        });
        one = new WorkerProcess(taskQueue, worker -> worker.registerActivitiesImplementations(new TaskActivitiesImpl(
                new Operators(new Hold("worker-1")), stores.taskRuns(), stores.lineage(), json)));
        two = new WorkerProcess(taskQueue, worker -> worker.registerActivitiesImplementations(new TaskActivitiesImpl(
                new Operators(new Hold("worker-2")), stores.taskRuns(), stores.lineage(), json)));
    }

    @AfterEach
    void stopWorkers() {
        release.countDown();
        for (WorkerProcess p : new WorkerProcess[] {one, two, engine}) {
            if (p != null) {
                p.kill();
            }
        }
    }

    @Test
    void aTaskWhoseWorkerDiesIsRetriedOnAnotherWorkerAfterItsHeartbeatTimeout() throws Exception {
        String runId = "dead-worker-" + UUID.randomUUID();
        stores.runs().create(runId, "test", 1, "{}", "tester");
        PlannedTask hold = new PlannedTask("hold", HOLD.name(), List.of(), "all_success", 1, Duration.ofSeconds(1),
                Duration.ofMinutes(10), taskQueue, Map.of(), false, HOLD.heartbeatTimeout().orElseThrow());
        PipelineWorkflow workflow = engine.client.newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(workflowQueue).build());
        WorkflowExecution execution = WorkflowClient.start(workflow::run,
                new PipelinePlan("test", 1, Map.of(), List.of(hold), 1, "tester"));

        assertThat(firstAttemptStarted.await(60, TimeUnit.SECONDS)).as("the first attempt started").isTrue();
        // the operator never heartbeats itself, yet on a live worker its attempt outlives three heartbeat timeouts
        await("attempt 1 heartbeated past three heartbeat timeouts").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> pending(execution).filter(a -> a.getAttempt() == 1
                        && Timestamps.between(a.getLastStartedTime(), a.getLastHeartbeatTime()).getSeconds()
                        > 3 * HEARTBEAT.toSeconds()).isPresent());

        String died = firstAttemptOn;
        (died.equals("worker-1") ? one : two).kill();

        RunState state = WorkflowStub.fromTyped(workflow).getResult(90, TimeUnit.SECONDS, RunState.class);
        assertThat(state.status()).isEqualTo("success");
        assertThat(state.tasks().get(0).outputs().get("worker")).as("the retry ran on the other worker")
                .isEqualTo(died.equals("worker-1") ? "worker-2" : "worker-1");
        List<TaskRun> attempts = stores.taskRuns().listByRun(runId);
        assertThat(attempts.stream().map(t -> t.attempt() + "=" + t.status()).collect(Collectors.toList()))
                .containsExactly("1=up_for_retry", "2=success");
        // the dead attempt reported nothing: the retry's start closed its record. So Temporal retried it on a timeout
        // of its own, and the only one shorter than this test's limit is the heartbeat timeout
        assertThat(attempts.get(0).error()).contains("attempt 2 took over");
    }

    private Optional<PendingActivityInfo> pending(WorkflowExecution execution) {
        return engine.stubs.blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                        .setNamespace("default").setExecution(execution).build())
                .getPendingActivitiesList().stream().findFirst();
    }

    /** Blocks its first attempt in one long call that heartbeats nothing; later attempts name their worker. */
    private final class Hold implements Operator {
        private final String worker;

        Hold(String worker) {
            this.worker = worker;
        }

        @Override
        public OperatorDescriptor descriptor() {
            return HOLD;
        }

        @Override
        public Map<String, Object> run(TaskContext context, Map<String, Object> with) {
            if (context.attempt() > 1) {
                return Map.of("worker", worker);
            }
            firstAttemptOn = worker;
            firstAttemptStarted.countDown();
            boolean released = false;
            while (!released) {
                try {
                    released = release.await(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    // like a native call, deaf to the worker's shutdown
                }
            }
            throw new IllegalStateException("released after the test");
        }
    }

    /** A worker process: its own connection and factory, so killing it leaves nothing of it talking to Temporal. */
    private static final class WorkerProcess {
        final WorkflowServiceStubs stubs;
        final WorkflowClient client;
        final WorkerFactory factory;

        WorkerProcess(String queue, java.util.function.Consumer<Worker> register) {
            stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
                    .setTarget(SharedLocalStack.get().temporalTarget()).build());
            client = WorkflowClient.newInstance(stubs);
            factory = WorkerFactory.newInstance(client);
            register.accept(factory.newWorker(queue));
            factory.start();
        }

        void kill() {
            if (!stubs.isShutdown()) {
                factory.shutdownNow();
                stubs.shutdownNow();
                stubs.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
