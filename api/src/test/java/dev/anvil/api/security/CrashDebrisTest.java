package dev.anvil.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.api.temporal.RunReconciler;
import dev.anvil.api.temporal.WorkerSettings;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.Migrations;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.db.TrafficChange;
import dev.anvil.devstack.DevStackConfig;
import dev.anvil.devstack.Ports;
import dev.anvil.devstack.SharedLocalStack;
import dev.anvil.devstack.TemporalDevServer;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
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

/**
 * "Crashes leave debris": after kill -9 of the API mid-run and a restart, a task stayed running, an
 * approval of the lost run stayed pending, and a rollout whose workflow was gone or failed stayed active
 * with its candidate on live traffic. Here the crash's rows are written as it leaves them, against a
 * real Temporal dev server that does not know (or failed) their workflows, and the reconciler that runs
 * at start-up and every minute must close each with a reason, putting traffic back on stable.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CrashDebrisTest {
    private static final String QUEUE = "crash-debris-" + UUID.randomUUID();
    private static final TrafficChange ADMIN = TrafficChange.byHand("admin", null);

    private static TemporalDevServer server;
    private static WorkflowServiceStubs stubs;
    private static WorkflowClient client;
    private static WorkerFactory factory;

    private PipelineRunStore runs;
    private TaskRunStore tasks;
    private ApprovalStore approvals;
    private RolloutStore rollouts;
    private EndpointStore endpoints;
    private AuditLogStore audit;
    private RunReconciler reconciler;

    @BeforeAll
    static void startTemporal() {
        server = TemporalDevServer.start("127.0.0.1", Ports.ephemeral());
        stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
        client = WorkflowClient.newInstance(stubs);
        factory = WorkerFactory.newInstance(client, WorkerSettings.factoryOptions(0));
        factory.newWorker(QUEUE, WorkerSettings.workerOptions(0))
                .registerWorkflowImplementationTypes(FailingRolloutImpl.class);
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
        PGSimpleDataSource db = new PGSimpleDataSource();
        db.setURL(SharedLocalStack.freshDatabase("crash_debris"));
        db.setUser(config.dbUser());
        db.setPassword(config.dbPassword());
        Migrations.migrate(db);
        runs = new PipelineRunStore(db);
        tasks = new TaskRunStore(db);
        approvals = new ApprovalStore(db);
        rollouts = new RolloutStore(db);
        endpoints = new EndpointStore(db);
        audit = new AuditLogStore(db);
        reconciler = new RunReconciler(runs, tasks, approvals, rollouts, endpoints, audit, stubs, "default");
        ArtifactStore artifacts = new ArtifactStore(db);
        ModelRegistryStore registry = new ModelRegistryStore(db);
        registry.createModel("digits", null);
        for (String sha : List.of("1".repeat(64), "2".repeat(64))) {
            artifacts.insert(sha, "s3://anvil/" + sha, 1, "application/onnx", null);
            registry.registerVersion("digits", sha, null, null);
        }
        endpoints.put("digits", "digits", 1, null, ADMIN);
    }

    @Test
    void aLostRunsTaskIsClosedAndItsApprovalExpiredWithAReason() {
        String run = "lost-" + UUID.randomUUID();
        runs.create(run, "demo", "{}", "alice");
        runs.updateStatus(run, "running");
        long task = tasks.start(run, "quantize", 1, "quantize", "{}");
        tasks.start(run, "approve", 1, "approval", "{}");
        approvals.create(run + ".approve.1", run, "approve", 1, "alice");

        RunReconciler.Reconciled done = reconciler.reconcile();

        assertThat(done.runs()).containsExactly(run);
        TaskRun closed = tasks.find(task).orElseThrow();
        assertThat(closed.status()).isEqualTo("failed");
        assertThat(closed.finishedAt()).isNotNull();
        assertThat(closed.error()).isEqualTo("run " + run + " ended failed while this attempt was still recorded as"
                + " running: its worker stopped before recording how it ended");
        assertThat(tasks.listByRun(run)).allMatch(t -> t.finishedAt() != null);
        Approval approval = approvals.find(run + ".approve.1").orElseThrow();
        assertThat(approval.state()).isEqualTo("expired");
        assertThat(approval.reason()).startsWith("run " + run + " ended failed while this approval was pending")
                .contains("lost this run; retry the run");
        assertThat(audit.listBySubject("run:" + run, 10)).extracting(AuditEntry::action).contains("approval.expired");
        assertThat(reconciler.reconcile().isEmpty()).as("a second pass finds nothing left").isTrue();
    }

    @Test
    void aFailedRunsTaskThatStayedRunningForeverIsClosed() {
        String run = "failed-" + UUID.randomUUID();
        runs.create(run, "demo", "{}", "alice");
        long task = tasks.start(run, "convert", 1, "convert", "{}");
        runs.markFailed(run, "convert: worker lost");

        assertThat(reconciler.reconcile().tasks()).containsExactly(task);
        assertThat(tasks.find(task).orElseThrow().status()).isEqualTo("failed");
        assertThat(tasks.find(task).orElseThrow().error()).startsWith("run " + run + " ended failed");
    }

    @Test
    void aRolloutWhoseWorkflowIsGoneFailsAndTrafficGoesBackToStable() {
        String id = "rollout-gone-" + UUID.randomUUID();
        activeRolloutAtTenPercent(id);

        assertThat(reconciler.reconcile().rollouts()).containsExactly(id);

        Rollout failed = rollouts.find(id).orElseThrow();
        assertThat(failed.state()).isEqualTo("failed");
        assertThat(failed.weight()).isZero();
        assertThat(failed.finishedAt()).isNotNull();
        assertThat(failed.reason()).contains("its workflow is gone", "all traffic is back on the stable version");
        Endpoint endpoint = endpoints.find("digits").orElseThrow();
        assertThat(endpoint.canaryVersion()).isNull();
        assertThat(endpoint.canaryWeight()).isZero();
        assertThat(audit.listBySubject("endpoint:digits", 10)).extracting(e -> e.actor() + " " + e.action())
                .startsWith("anvil rollout.failed", "anvil endpoint.canary.removed");
        assertThat(audit.verify().valid()).isTrue();
        assertThat(rollouts.findActive("digits")).as("the endpoint is free for another rollout").isEmpty();
    }

    @Test
    void aRolloutWhoseWorkflowFailedDoesNotStayActive() throws Exception {
        String id = "rollout-failed-" + UUID.randomUUID();
        FailingRollout workflow = client.newWorkflowStub(FailingRollout.class,
                WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId(id).build());
        try {
            workflow.run();
        } catch (WorkflowFailedException expected) {
            // the rollout's activity gave up: the workflow failed with the canary still at its weight
        }
        activeRolloutAtTenPercent(id);

        assertThat(reconciler.reconcile().rollouts()).containsExactly(id);
        assertThat(rollouts.find(id).orElseThrow().reason()).startsWith("its workflow ended failed without finishing");
        assertThat(endpoints.find("digits").orElseThrow().hasCanary()).isFalse();
    }

    @Test
    void aCanaryTheFailedRolloutDoesNotOwnIsLeftAlone() {
        String id = "rollout-lost-" + UUID.randomUUID();
        rollouts.create(id, "digits", "digits", 1, 2);
        endpoints.setCanary("digits", 2, 30, ADMIN); // set by hand, not the rollout's

        reconciler.reconcile();

        assertThat(rollouts.find(id).orElseThrow().state()).isEqualTo("failed");
        assertThat(endpoints.find("digits").orElseThrow().canaryWeight()).isEqualTo(30);
    }

    /** What the crash left: a rollout row running with its canary at 10 %. */
    private void activeRolloutAtTenPercent(String id) {
        rollouts.create(id, "digits", "digits", 1, 2);
        TrafficChange step = TrafficChange.forRollout(id, "anvil", null);
        endpoints.setCanary("digits", 2, 0, step);
        endpoints.setWeight("digits", 10, step);
        rollouts.update(id, "running", 10, null);
        assertThat(endpoints.find("digits").orElseThrow().canaryWeight()).isEqualTo(10);
    }

    @WorkflowInterface
    public interface FailingRollout {
        @WorkflowMethod
        void run();
    }

    public static class FailingRolloutImpl implements FailingRollout {
        @Override
        public void run() {
            throw ApplicationFailure.newNonRetryableFailure("no serving process reported the candidate loaded",
                    "RolloutFailed");
        }
    }
}
