package dev.anvil.api.temporal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.anvil.devstack.Ports;
import dev.anvil.devstack.TemporalDevServer;
import dev.anvil.workflows.rollout.Analysis;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryResult;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflowImpl;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.LatencyBuckets;
import dev.anvil.workflows.rollout.RolloutActivities;
import dev.anvil.workflows.rollout.RolloutStart;
import dev.anvil.workflows.rollout.VersionCounts;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A canary rollout survives its worker dying mid-step on the real dev server with local-mode worker
 * settings: a new worker process replays the history and carries on from the step it was in, without
 * starting the rollout again.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RolloutRestartTest {
    private static TemporalDevServer server;
    private static WorkflowServiceStubs observerStubs;
    private static WorkflowClient observer;
    private static final List<String> calls = Collections.synchronizedList(new ArrayList<>());

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

    @Test
    void aRolloutWhoseWorkerDiesMidStepIsFinishedByTheNextWorker() throws Exception {
        String queue = "rollout-restart-" + UUID.randomUUID();
        Worker first = new Worker("worker-1", queue);
        String id = "rollout-restart-" + UUID.randomUUID();
        CanaryRolloutWorkflow rollout = observer.newWorkflowStub(CanaryRolloutWorkflow.class,
                WorkflowOptions.newBuilder().setTaskQueue(queue).setWorkflowId(id).build());
        WorkflowClient.start(rollout::run, new CanaryRequest(id, "digits", "a".repeat(64), List.of(50, 100), 3, 10,
                0.01, 1.5, 2, null, "tester"));
        // wait until the first step's weight is set and the workflow sleeps on its durable timer. The
        // call being recorded is not enough: killing the worker before it reports the activity done
        // would leave that activity to its start-to-close timeout, which is not what this test is about.
        await("the first step's timer started").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> sleepingOnTimer(id));
        assertThat(calls).contains("setWeight 50 by worker-1");
        first.kill();
        Worker second = new Worker("worker-2", queue);
        try {
            CanaryResult result = WorkflowStub.fromTyped(rollout).getResult(60, TimeUnit.SECONDS, CanaryResult.class);
            assertThat(result.state()).isEqualTo("promoted");
            assertThat(calls).containsOnlyOnce("begin by worker-1");
            assertThat(calls).noneMatch(c -> c.startsWith("begin by worker-2"));
            assertThat(calls).contains("setWeight 100 by worker-2", "promote by worker-2");
        } finally {
            second.kill();
        }
    }

    private static boolean sleepingOnTimer(String workflowId) {
        return observer.fetchHistory(workflowId).getEvents().stream()
                .anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED);
    }

    /** A worker process with local-mode settings (no cache, no sticky queue) and a stand-in gateway. */
    private static final class Worker {
        final WorkflowServiceStubs stubs;
        final WorkerFactory factory;

        Worker(String name, String queue) {
            stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
            factory = WorkerFactory.newInstance(WorkflowClient.newInstance(stubs), WorkerSettings.factoryOptions(0));
            io.temporal.worker.Worker worker = factory.newWorker(queue, WorkerSettings.workerOptions(0));
            worker.registerWorkflowImplementationTypes(CanaryRolloutWorkflowImpl.class);
            worker.registerActivitiesImplementations(new Gateway(name));
            factory.start();
        }

        void kill() {
            factory.shutdownNow();
            factory.awaitTermination(5, TimeUnit.SECONDS);
            stubs.shutdownNow();
            stubs.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Healthy traffic for both versions, growing with every read; records who did what. */
    private static final class Gateway implements RolloutActivities {
        private static long served;
        private final String worker;

        Gateway(String worker) {
            this.worker = worker;
        }

        public RolloutStart begin(CanaryRequest request) {
            calls.add("begin by " + worker);
            return new RolloutStart("digits", 1, 2);
        }

        public void setWeight(String rolloutId, String endpoint, int weight, String state, Analysis analysis) {
            calls.add("setWeight " + weight + " by " + worker);
        }

        public EndpointCounts readCounts(String endpoint) {
            synchronized (Gateway.class) {
                served += 100;
                List<Long> buckets = new ArrayList<>(Collections.nCopies(VersionCounts.empty(1).latencyBuckets().size(), 0L));
                buckets.set(LatencyBuckets.indexOf(800), served);
                return new EndpointCounts(endpoint, List.of(new VersionCounts(1, served, 0, buckets),
                        new VersionCounts(2, served, 0, buckets)));
            }
        }

        public void rollBack(String rolloutId, String endpoint, String state, Analysis analysis, String actor,
                String reason) {
            calls.add("rollBack by " + worker);
        }

        public void promote(CanaryRequest request, RolloutStart start, Analysis analysis, String actor, String reason) {
            calls.add("promote by " + worker);
        }
    }
}
