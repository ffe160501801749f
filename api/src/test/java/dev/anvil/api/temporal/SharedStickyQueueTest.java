package dev.anvil.api.temporal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.devstack.Ports;
import dev.anvil.devstack.TemporalDevServer;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
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
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two live worker processes on one task queue, both with a workflow cache, on the dev server: the dev server
 * names sticky queues after their shared queue, so the two share one sticky queue, and a worker can be sent
 * a workflow task of a run the other one advanced since it cached it. Every run must still finish, each step
 * run once and in order; a worker whose cached copy fell behind replays from the full history.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SharedStickyQueueTest {
    private static final int RUNS = 12;
    private static final int STEPS = 15;

    private static TemporalDevServer server;
    private static WorkflowServiceStubs observerStubs;

    @BeforeAll
    static void startServer() {
        server = TemporalDevServer.start("127.0.0.1", Ports.ephemeral());
        observerStubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
    }

    @AfterAll
    static void stopServer() {
        observerStubs.shutdownNow();
        server.close();
    }

    @Test
    void twoLiveWorkersWithCachesFinishEveryRunWithEachStepOnceAndInOrder() throws Exception {
        String queue = "shared-sticky-" + UUID.randomUUID();
        TestWorker one = new TestWorker("worker-1", queue);
        TestWorker two = new TestWorker("worker-2", queue);
        try {
            WorkflowClient client = WorkflowClient.newInstance(observerStubs);
            List<WorkflowStub> runs = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                StepsWorkflow workflow = client.newWorkflowStub(StepsWorkflow.class, WorkflowOptions.newBuilder()
                        .setTaskQueue(queue)
                        .setWorkflowId("shared-sticky-" + i + "-" + UUID.randomUUID())
                        .build());
                WorkflowClient.start(workflow::run, STEPS);
                runs.add(WorkflowStub.fromTyped(workflow));
            }

            List<Integer> expected = new ArrayList<>();
            for (int step = 0; step < STEPS; step++) {
                expected.add(step);
            }
            for (WorkflowStub run : runs) {
                @SuppressWarnings("unchecked")
                List<Integer> steps = run.getResult(90, TimeUnit.SECONDS, List.class);
                assertThat(steps).as("steps of " + run.getExecution().getWorkflowId()).isEqualTo(expected);
            }
            assertThat(one.activities.calls.get() + two.activities.calls.get())
                    .as("each step ran once: no activity was scheduled twice by a stale cached copy")
                    .isEqualTo(RUNS * STEPS);
            assertThat(one.activities.calls.get()).as("worker-1 took part").isPositive();
            assertThat(two.activities.calls.get()).as("worker-2 took part").isPositive();
        } finally {
            one.kill();
            two.kill();
        }
    }

    /** One worker process with Anvil's default settings (cache 600, sticky queues on). */
    private static final class TestWorker {
        final WorkflowServiceStubs stubs;
        final WorkerFactory factory;
        final StepActivitiesImpl activities = new StepActivitiesImpl();

        TestWorker(String name, String queue) {
            stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
            factory = WorkerFactory.newInstance(WorkflowClient.newInstance(stubs), WorkerSettings.factoryOptions(600));
            io.temporal.worker.Worker worker = factory.newWorker(queue, WorkerSettings.workerOptions(600));
            worker.registerWorkflowImplementationTypes(StepsWorkflowImpl.class);
            worker.registerActivitiesImplementations(activities);
            factory.start();
        }

        void kill() {
            factory.shutdownNow();
            factory.awaitTermination(5, TimeUnit.SECONDS);
            stubs.shutdownNow();
        }
    }

    @WorkflowInterface
    public interface StepsWorkflow {
        @WorkflowMethod
        List<Integer> run(int steps);
    }

    @ActivityInterface
    public interface StepActivities {
        int step(int index);
    }

    public static class StepsWorkflowImpl implements StepsWorkflow {
        private final StepActivities activities = Workflow.newActivityStub(StepActivities.class,
                ActivityOptions.newBuilder()
                        .setStartToCloseTimeout(Duration.ofSeconds(10))
                        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                        .build());

        @Override
        public List<Integer> run(int steps) {
            List<Integer> done = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                done.add(activities.step(i));
            }
            return done;
        }
    }

    static final class StepActivitiesImpl implements StepActivities {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public int step(int index) {
            calls.incrementAndGet();
            return index;
        }
    }
}
