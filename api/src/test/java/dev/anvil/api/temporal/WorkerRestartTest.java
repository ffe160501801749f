package dev.anvil.api.temporal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.anvil.devstack.Ports;
import dev.anvil.devstack.TemporalDevServer;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@link WorkerSettings} claims, on the real port-bound dev server: with local-mode settings
 * (no cache, sticky schedule-to-start timeout zero) a run survives its worker process dying mid-run,
 * because the next workflow task goes to the shared queue where a new process replays the history
 * and carries on; with sticky execution on, the run stays stuck on the dead worker's queue.
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

    @Test
    void aRestartedWorkerFinishesARunWhoseWorkerDiedMidRun() throws Exception {
        first = new TestWorker("worker-1", taskQueue, 0);
        WorkflowStub run = start();

        awaitTimerStarted(run.getExecution());
        first.kill();
        second = new TestWorker("worker-2", taskQueue, 0);

        assertThat(run.getResult(30, TimeUnit.SECONDS, String.class)).isEqualTo("A by worker-1, B by worker-2");
        assertThat(first.activities.firstCalls).hasValue(1);
        assertThat(first.activities.secondCalls).hasValue(0);
        assertThat(second.activities.firstCalls).as("A must not run again after the restart").hasValue(0);
        assertThat(second.activities.secondCalls).hasValue(1);
    }

    @Test
    void withAWorkflowCacheTheRunStaysOnTheDeadWorkersStickyQueue() throws Exception {
        first = new TestWorker("worker-1", taskQueue, 600);
        WorkflowStub run = start();

        awaitTimerStarted(run.getExecution());
        first.kill();
        second = new TestWorker("worker-2", taskQueue, 600);

        // the timer fires after 3 s; a worker on the shared queue would finish the run a moment later
        assertThatThrownBy(() -> run.getResult(15, TimeUnit.SECONDS, String.class))
                .isInstanceOf(TimeoutException.class);
        assertThat(status(run.getExecution()))
                .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
        assertThat(second.activities.secondCalls).hasValue(0);
        run.terminate("test over: the run was stuck on a dead worker's sticky queue, as expected");
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

    private static WorkflowExecutionStatus status(WorkflowExecution execution) {
        return observerStubs.blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                        .setNamespace("default")
                        .setExecution(execution)
                        .build())
                .getWorkflowExecutionInfo().getStatus();
    }

    /** One worker process: its own connection, client and factory, as after a restart. */
    private static final class TestWorker {
        final WorkflowServiceStubs stubs;
        final WorkflowClient client;
        final WorkerFactory factory;
        final RestartActivitiesImpl activities;

        TestWorker(String name, String taskQueue, int workflowCacheSize) {
            stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
            client = WorkflowClient.newInstance(stubs);
            factory = WorkerFactory.newInstance(client, WorkerSettings.factoryOptions(workflowCacheSize));
            io.temporal.worker.Worker worker = factory.newWorker(taskQueue, WorkerSettings.workerOptions(workflowCacheSize));
            worker.registerWorkflowImplementationTypes(RestartWorkflowImpl.class);
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
