package dev.anvil.api.temporal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.db.ApprovalStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.Migrations;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.DevStackConfig;
import dev.anvil.devstack.Ports;
import dev.anvil.activities.pipeline.RunExecutions;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.devstack.TemporalDevServer;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.ds.PGSimpleDataSource;

/** The reconciler against a real dev server and a real PostgreSQL database of its own. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public class RunReconcilerTest {
    private static final String NAMESPACE = "default";
    private static final String TASK_QUEUE = "reconciler-" + UUID.randomUUID();

    private static TemporalDevServer server;
    private static WorkflowServiceStubs stubs;
    private static WorkflowClient client;
    private static WorkerFactory factory;

    private PipelineRunStore runs;
    private RunReconciler reconciler;

    @BeforeAll
    static void startTemporal() {
        server = TemporalDevServer.start("127.0.0.1", Ports.ephemeral());
        stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
        client = WorkflowClient.newInstance(stubs);
        factory = WorkerFactory.newInstance(client, WorkerSettings.factoryOptions(0));
        factory.newWorker(TASK_QUEUE, WorkerSettings.workerOptions(0))
                .registerWorkflowImplementationTypes(AwaitFinishWorkflowImpl.class);
        factory.start();
    }

    @AfterAll
    static void stopTemporal() {
        factory.shutdownNow();
        factory.awaitTermination(5, TimeUnit.SECONDS);
        stubs.shutdownNow();
        server.close();
    }

    @BeforeEach
    void freshDatabase() {
        DevStackConfig config = SharedLocalStack.get().config();
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setURL(SharedLocalStack.freshDatabase("reconciler"));
        dataSource.setUser(config.dbUser());
        dataSource.setPassword(config.dbPassword());
        Migrations.migrate(dataSource);
        runs = new PipelineRunStore(dataSource);
        reconciler = new RunReconciler(runs, new TaskRunStore(dataSource), new ApprovalStore(dataSource),
                new RolloutStore(dataSource), new EndpointStore(dataSource), new AuditLogStore(dataSource), stubs,
                NAMESPACE);
    }

    @Test
    void failsLostRunsKeepsLiveOnesAndRecordsFinishedOnes() throws Exception {
        String lost = runningRun("lost");
        String alive = runningRun("alive");
        startWorkflow(alive);
        String finished = runningRun("finished");
        startWorkflow(finished).signal("finish");
        WorkflowStub.fromTyped(client.newWorkflowStub(AwaitFinishWorkflow.class, finished))
                .getResult(10, TimeUnit.SECONDS, String.class);

        List<String> changed = reconciler.reconcile().runs();

        assertThat(changed).containsExactlyInAnyOrder(lost, finished);
        PipelineRun lostRun = runs.find(lost).orElseThrow();
        assertThat(lostRun.status()).isEqualTo("failed");
        assertThat(lostRun.error()).isEqualTo(RunReconciler.LOST_RUN_REASON);
        assertThat(lostRun.finishedAt()).isNotNull();
        assertThat(runs.find(alive).orElseThrow().status()).isEqualTo("running");
        PipelineRun finishedRun = runs.find(finished).orElseThrow();
        assertThat(finishedRun.status()).isEqualTo("success");
        assertThat(finishedRun.error()).isNull();

        assertThat(reconciler.reconcile().isEmpty()).as("a second pass finds nothing left to change").isTrue();
        assertThat(runs.find(alive).orElseThrow().status()).isEqualTo("running");
    }

    @Test
    void aQueuedRunWithNoWorkflowIsLostToo() {
        String queued = "queued-" + UUID.randomUUID();
        runs.create(queued, "demo", "{}", "alice");

        assertThat(reconciler.reconcile().runs()).containsExactly(queued);
        assertThat(runs.find(queued).orElseThrow().error()).isEqualTo(RunReconciler.LOST_RUN_REASON);
    }

    @Test
    void afterStartUpAQueuedRunIsLostOnlyWhenTemporalStillDoesNotKnowItAPassLater() {
        reconciler.reconcile(); // the start-up pass
        String queued = "queued-" + UUID.randomUUID();
        runs.create(queued, "demo", "{}", "alice"); // recorded just before its workflow starts

        assertThat(reconciler.reconcile().runs()).as("its workflow may be starting").isEmpty();
        assertThat(runs.find(queued).orElseThrow().status()).isEqualTo("queued");
        assertThat(reconciler.reconcile().runs()).containsExactly(queued);
        assertThat(runs.find(queued).orElseThrow().error()).isEqualTo(RunReconciler.LOST_RUN_REASON);
    }

    @Test
    void aRunReopenedForARetryIsNotTakenForItsEarlierExecution() throws Exception {
        reconciler.reconcile(); // the start-up pass
        // the run's first execution completed (a failed run's workflow completes), then the run was reopened
        String retried = runningRun("retried");
        startWorkflow(retried).signal("finish");
        WorkflowStub.fromTyped(client.newWorkflowStub(AwaitFinishWorkflow.class, retried))
                .getResult(10, TimeUnit.SECONDS, String.class);
        runs.markFailed(retried, "a task failed");
        PipelineRun reopened = runs.reopen(retried);
        assertThat(reopened.reopenedAt()).isNotNull();

        assertThat(reconciler.reconcile().runs()).as("not 'success' from the old execution: the retry may be starting")
                .isEmpty();
        assertThat(runs.find(retried).orElseThrow().status()).isEqualTo("queued");
        assertThat(reconciler.reconcile().runs()).as("a pass later its retry has still not started").containsExactly(retried);
        assertThat(runs.find(retried).orElseThrow().error()).isEqualTo(RunReconciler.RETRY_NOT_STARTED_REASON);

        // a second retry whose execution started (its memo names the reopen) is left to run
        PipelineRun again = runs.reopen(retried);
        AwaitFinishWorkflow workflow = client.newWorkflowStub(AwaitFinishWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TASK_QUEUE).setWorkflowId(retried).setMemo(RunExecutions.memo(again.reopenedAt()))
                .build());
        WorkflowClient.start(workflow::run);
        assertThat(reconciler.reconcile().runs()).isEmpty();
        assertThat(reconciler.reconcile().runs()).isEmpty();
        assertThat(runs.find(retried).orElseThrow().status()).isEqualTo("queued");
        WorkflowStub.fromTyped(workflow).signal("finish");
        WorkflowStub.fromTyped(workflow).getResult(10, TimeUnit.SECONDS, String.class);
        assertThat(reconciler.reconcile().runs()).as("its own execution ended").containsExactly(retried);
        assertThat(runs.find(retried).orElseThrow().status()).isEqualTo("success");
    }

    private String runningRun(String label) {
        String id = label + "-" + UUID.randomUUID();
        runs.create(id, "demo", "{}", "alice");
        runs.updateStatus(id, "running");
        return id;
    }

    private WorkflowStub startWorkflow(String runId) {
        AwaitFinishWorkflow workflow = client.newWorkflowStub(AwaitFinishWorkflow.class,
                WorkflowOptions.newBuilder().setTaskQueue(TASK_QUEUE).setWorkflowId(runId).build());
        WorkflowClient.start(workflow::run);
        return WorkflowStub.fromTyped(workflow);
    }

    @WorkflowInterface
    public interface AwaitFinishWorkflow {
        @WorkflowMethod
        String run();

        @SignalMethod
        void finish();
    }

    public static class AwaitFinishWorkflowImpl implements AwaitFinishWorkflow {
        private boolean finished;

        @Override
        public String run() {
            Workflow.await(() -> finished);
            return "done";
        }

        @Override
        public void finish() {
            finished = true;
        }
    }
}
