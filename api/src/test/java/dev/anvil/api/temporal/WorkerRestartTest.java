package dev.anvil.api.temporal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.anvil.devstack.Ports;
import dev.anvil.devstack.TemporalDevServer;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link WorkerSettings} claims, on the real port-bound dev server: a run survives its worker process
 * dying mid-run, the next workflow task reaching a new process that replays the history and carries on,
 * both with the workflow cache on (sticky execution: the dev server's sticky queue is named after the shared
 * queue, so the new process polls it) and with it off (every task on the shared queue).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public class WorkerRestartTest {
    private static TemporalDevServer server;
    /** The test's own connection, which outlives every worker it kills. */
    private static WorkflowServiceStubs observerStubs;
    private static WorkflowClient observer;

    private final String taskQueue = "worker-restart-" + UUID.randomUUID();
    private TestWorker first;
    private TestWorker second;

    @BeforeAll
    static void startServer() {
        server = TemporalDevServer.start("127.0.0.1", Ports.ephemeral());
        observerStubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
        observer = WorkflowClient.newInstance(observerStubs);
    }

    @AfterAll
    static void stopServer() {
        observerStubs.shutdownNow();
        server.close();
    }

    @AfterEach
    void stopWorkers() {
        if (first != null) {
            first.kill();
        }
        if (second != null) {
            second.kill();
        }
    }

    @ParameterizedTest(name = "workflow cache {0}")
    @ValueSource(ints = {600, 0})
    void aRestartedWorkerFinishesARunWhoseWorkerDiedMidRun(int workflowCacheSize) throws Exception {
        first = new TestWorker("worker-1", taskQueue, workflowCacheSize);
        WorkflowStub run = start();

        awaitTimerStarted(run.getExecution());
        first.kill();
        second = new TestWorker("worker-2", taskQueue, workflowCacheSize);

        assertThat(run.getResult(30, TimeUnit.SECONDS, String.class)).isEqualTo("A by worker-1, B by worker-2");
        assertThat(first.activities.firstCalls).hasValue(1);
        assertThat(first.activities.secondCalls).hasValue(0);
        assertThat(second.activities.firstCalls).as("A must not run again after the restart").hasValue(0);
        assertThat(second.activities.secondCalls).hasValue(1);
        // worker-1 ran two workflow tasks (the start, then A's result: the timer); worker-2 replays once and
        // goes on with the timer's task and B's result
        if (workflowCacheSize > 0) {
            assertThat(first.instances).as("with the cache, worker-1 resumed its cached run").hasValue(1);
            assertThat(second.instances).as("worker-2 had not cached the run, and replayed it once").hasValue(1);
        } else {
            assertThat(first.instances).as("without the cache, each workflow task replays").hasValue(2);
            assertThat(second.instances).hasValueGreaterThanOrEqualTo(2);
        }
    }

    private WorkflowStub start() {
        RestartWorkflow workflow = observer.newWorkflowStub(RestartWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(taskQueue)
                .setWorkflowId("restart-" + UUID.randomUUID())
                .build());
        WorkflowClient.start(workflow::run);
        return WorkflowStub.fromTyped(workflow);
    }

    /** Activity A has completed and the workflow sleeps: the point where killing the worker loses nothing but its cache. */
    private static void awaitTimerStarted(WorkflowExecution execution) {
        await("workflow " + execution.getWorkflowId() + " reached its sleep").atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(50)).until(() -> timerStarted(execution));
    }

    private static boolean timerStarted(WorkflowExecution execution) {
        return observerStubs.blockingStub().getWorkflowExecutionHistory(
                        GetWorkflowExecutionHistoryRequest.newBuilder()
                                .setNamespace("default")
                                .setExecution(execution)
                                .build())
                .getHistory().getEventsList().stream()
                .anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED);
    }

    /** One worker process: its own connection, client and factory, as after a restart. */
    private static final class TestWorker {
        final WorkflowServiceStubs stubs;
        final WorkflowClient client;
        final WorkerFactory factory;
        final RestartActivitiesImpl activities;
        /** Workflow instances this worker made: one per replay from the start of the history. */
        final AtomicInteger instances = new AtomicInteger();

        TestWorker(String name, String taskQueue, int workflowCacheSize) {
            stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
            client = WorkflowClient.newInstance(stubs);
            factory = WorkerFactory.newInstance(client, WorkerSettings.factoryOptions(workflowCacheSize));
            io.temporal.worker.Worker worker = factory.newWorker(taskQueue, WorkerSettings.workerOptions(workflowCacheSize));
            worker.registerWorkflowImplementationFactory(RestartWorkflow.class, () -> {
                instances.incrementAndGet();
                return new RestartWorkflowImpl();
            });
            activities = new RestartActivitiesImpl(name);
            worker.registerActivitiesImplementations(activities);
            factory.start();
        }

        /** Like the process exiting: nothing of this worker polls or answers afterwards. */
        void kill() {
            factory.shutdownNow();
            factory.awaitTermination(5, TimeUnit.SECONDS);
            stubs.shutdownNow();
            stubs.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @WorkflowInterface
    public interface RestartWorkflow {
        @WorkflowMethod
        String run();
    }

    @ActivityInterface
    public interface RestartActivities {
        String first();

        String second();
    }

    public static class RestartWorkflowImpl implements RestartWorkflow {
        // short timeouts and few attempts: a lost activity must show up as a slow test, not a hang
        private final RestartActivities activities = Workflow.newActivityStub(RestartActivities.class,
                ActivityOptions.newBuilder()
                        .setStartToCloseTimeout(Duration.ofSeconds(5))
                        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(3).build())
                        .build());

        @Override
        public String run() {
            String a = activities.first();
            Workflow.sleep(Duration.ofSeconds(3));
            String b = activities.second();
            return a + ", " + b;
        }
    }

    static final class RestartActivitiesImpl implements RestartActivities {
        final AtomicInteger firstCalls = new AtomicInteger();
        final AtomicInteger secondCalls = new AtomicInteger();
        private final String worker;

        RestartActivitiesImpl(String worker) {
            this.worker = worker;
        }

        @Override
        public String first() {
            firstCalls.incrementAndGet();
            return "A by " + worker;
        }

        @Override
        public String second() {
            secondCalls.incrementAndGet();
            return "B by " + worker;
        }
    }
}
