package dev.anvil.activities.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.runs.RunStateActivitiesImpl;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.RunAdmissionStore;
import dev.anvil.db.TriggerEventStore;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.spec.EventTrigger;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestWorkflowEnvironment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * max_active_runs over real PostgreSQL and the Temporal test service: a run started beyond the limit (by hand,
 * by a schedule tick, by an event) is recorded queued with no workflow, and its workflow starts when an active
 * run ends; starts at once never take more slots than the limit.
 */
class MaxActiveRunsTest {
    private static final String SPEC = """
            pipeline: retrain
            max_active_runs: 1
            schedule: {cron: "@daily", on: [{drift: digits}]}
            tasks:
              approve: {operator: approval}
            """;

    private LocalStackStores stores;
    private PipelineStore pipelines;
    private RunAdmissionStore admissions;
    private TriggerEventStore events;
    private TestWorkflowEnvironment temporal;
    private RunLauncher launcher;

    @BeforeEach
    void open() throws Exception {
        stores = LocalStackStores.open("max_active", "max-active-" + System.nanoTime());
        pipelines = new PipelineStore(stores.db());
        admissions = new RunAdmissionStore(stores.db());
        events = new TriggerEventStore(stores.db());
        // only the client is used: workflows are started (or not), none runs, so the active runs stay active
        temporal = TestWorkflowEnvironment.newInstance();
        launcher = new RunLauncher(pipelines, stores.runs(), admissions, stores.taskRuns(), temporal.getWorkflowClient(),
                OperatorRegistry.builtIns(), new ObjectMapper());
        pipelines.register("retrain", SPEC, "alice");
    }

    @AfterEach
    void close() {
        temporal.close();
    }

    @Test
    void runsBeyondTheLimitWaitWithoutAWorkflowAndStartOneByOneAsSlotsFree() throws Exception {
        RunLauncher.Started first = launcher.start("retrain", "retrain-1", Map.of(), "bo", null);
        RunLauncher.Started byHand = launcher.start("retrain", "retrain-2", Map.of(), "bo", null, false);
        String tick = new ScheduleActivitiesImpl(launcher).startScheduledRun("retrain", "2026-12-07T00:00:00Z", null);
        List<String> onDrift = new EventTriggers(pipelines, OperatorRegistry.builtIns(), events, launcher)
                .fire(EventTrigger.DRIFT, "digits", "drift:digits:7", "{}", "anvil");

        assertThat(first.waiting()).isFalse();
        assertThat(workflowExists("retrain-1")).isTrue();
        assertThat(byHand.waitingFor()).isEqualTo(1);
        assertThat(onDrift).hasSize(1);
        for (String waiting : List.of("retrain-2", tick, onDrift.get(0))) {
            assertThat(workflowExists(waiting)).as(waiting).isFalse();
            assertThat(stores.runs().find(waiting)).get().extracting(PipelineRun::status).isEqualTo("queued");
            assertThat(admissions.find(waiting)).as(waiting).isPresent();
        }
        assertThat(events.findByRun(onDrift.get(0))).get().satisfies(e -> assertThat(e.error()).isNull());
        assertThat(launcher.admitWaiting()).isEmpty(); // the first still holds the slot

        // the first run ends: the activity that records it starts the oldest waiting run, and only that one
        RunStateActivitiesImpl state = new RunStateActivitiesImpl(stores.runs(), launcher::admitWaiting);
        state.runFinished("retrain-1", "success", null);
        assertThat(workflowExists("retrain-2")).isTrue();
        assertThat(workflowExists(tick)).isFalse();
        assertThat(admissions.find("retrain-2")).isEmpty();
        assertThat(startInput("retrain-2").tasks()).allSatisfy(t -> assertThat(t.cache()).isFalse());

        state.runFinished("retrain-2", "failed", "rejected");
        assertThat(workflowExists(tick)).isTrue();
        assertThat(startInput(tick).logicalDate()).isEqualTo("2026-12-07T00:00:00Z");
        assertThat(workflowExists(onDrift.get(0))).isFalse();

        // a waiting run that is cancelled gives up its place; no workflow was ever started for it
        assertThat(admissions.cancelWaiting(onDrift.get(0))).isTrue();
        state.runFinished(tick, "success", null);
        assertThat(workflowExists(onDrift.get(0))).isFalse();
        assertThat(stores.runs().find(onDrift.get(0))).get().extracting(PipelineRun::status).isEqualTo("cancelled");
    }

    @Test
    void twoTriggersAtOnceStartOneRunAndQueueTheOther() throws Exception {
        EventTriggers triggers = new EventTriggers(pipelines, OperatorRegistry.builtIns(), events, launcher);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<String>>> fired = new ArrayList<>();
        try {
            for (int report = 1; report <= 2; report++) {
                String key = "drift:digits:" + report;
                fired.add(pool.submit(() -> {
                    go.await();
                    return triggers.fire(EventTrigger.DRIFT, "digits", key, "{}", "anvil");
                }));
            }
            go.countDown();
            List<String> runs = new ArrayList<>();
            for (Future<List<String>> f : fired) {
                runs.addAll(f.get());
            }
            assertThat(runs).hasSize(2);
            assertThat(runs.stream().filter(this::workflowExists).count()).isEqualTo(1);
            assertThat(runs.stream().filter(r -> admissions.find(r).isPresent()).count()).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPipelineWithoutTheLimitStartsEveryRun() throws Exception {
        pipelines.register("free", SPEC.replace("pipeline: retrain", "pipeline: free").replace("max_active_runs: 1\n", ""),
                "alice");

        RunLauncher.Started a = launcher.start("free", "free-1", Map.of(), "bo", null);
        RunLauncher.Started b = launcher.start("free", "free-2", Map.of(), "bo", null);

        assertThat(a.waiting()).isFalse();
        assertThat(b.waiting()).isFalse();
        assertThat(workflowExists("free-1")).isTrue();
        assertThat(workflowExists("free-2")).isTrue();
    }

    @Test
    void raisingTheLimitLetsWaitingRunsStart() throws Exception {
        launcher.start("retrain", "retrain-1", Map.of(), "bo", null);
        launcher.start("retrain", "retrain-2", Map.of(), "bo", null);
        assertThat(workflowExists("retrain-2")).isFalse();

        pipelines.register("retrain", SPEC.replace("max_active_runs: 1", "max_active_runs: 2"), "alice");

        assertThat(launcher.admitWaiting()).containsExactly("retrain-2");
        assertThat(workflowExists("retrain-2")).isTrue();
    }

    @Test
    void anAdmissionACrashInterruptedIsStartedLaterAndNeverTwice() throws Exception {
        launcher.start("retrain", "retrain-1", Map.of(), "bo", null);
        launcher.start("retrain", "retrain-2", Map.of(), "bo", null);
        stores.runs().updateStatus("retrain-1", "success");
        // a process admitted retrain-2 and died before starting its workflow
        assertThat(admissions.admit("retrain", 1)).extracting(RunAdmissionStore.Waiting::runId)
                .containsExactly("retrain-2");
        assertThat(workflowExists("retrain-2")).isFalse();

        assertThat(launcher.admitWaiting()).containsExactly("retrain-2");
        assertThat(workflowExists("retrain-2")).isTrue();

        // its workflow ends while a second process still holds the admission: that one starts nothing new
        temporal.getWorkflowClient().newUntypedWorkflowStub("retrain-2").terminate("test");
        staleAdmission("retrain-2", false);
        launcher.admitWaiting("retrain");
        assertThat(status("retrain-2"))
                .isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
        assertThat(admissions.find("retrain-2")).isEmpty();
    }

    @Test
    void aRetryAtTheLimitWaitsLikeANewRunAndStartsItsRetryPlanWhenASlotFrees() throws Exception {
        launcher.start("retrain", "retrain-1", Map.of(), "bo", null);
        long attempt = stores.taskRuns().start("retrain-1", "approve", 1, "approval", "{}");
        stores.taskRuns().finish(attempt, "failed", null, "rejected");
        temporal.getWorkflowClient().newUntypedWorkflowStub("retrain-1").terminate("test");
        stores.runs().updateStatus("retrain-1", "failed");
        launcher.start("retrain", "retrain-2", Map.of(), "bo", null);
        assertThat(workflowExists("retrain-2")).as("the slot was free").isTrue();

        // Airflow's clear under max_active_runs: the retry is queued, its old execution stays as it ended
        RunLauncher.Started retry = launcher.retry("retrain-1", null);
        assertThat(retry.waitingFor()).isEqualTo(1);
        assertThat(stores.runs().find("retrain-1")).get().extracting(PipelineRun::status).isEqualTo("queued");
        assertThat(admissions.find("retrain-1")).get().satisfies(w -> {
            assertThat(w.retry()).isTrue();
            assertThat(w.retryFrom()).isNull();
        });
        assertThat(status("retrain-1"))
                .isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
        assertThat(stores.runs().listByStatus("queued")).extracting(PipelineRun::id)
                .as("reconciliation leaves a waiting retry alone").doesNotContain("retrain-1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> launcher.retry("retrain-1", null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is queued");

        // the active run ends: the retry starts, as a retry (its earlier attempt counted), not as a fresh run
        new RunStateActivitiesImpl(stores.runs(), launcher::admitWaiting).runFinished("retrain-2", "success", null);
        assertThat(status("retrain-1"))
                .isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
        assertThat(startInput("retrain-1").previousAttempts()).containsEntry("approve", 1);
        assertThat(admissions.find("retrain-1")).isEmpty();
    }

    @Test
    void aRetryWithAFreeSlotStartsAtOnceAndAWaitingRetryCanBeCancelled() throws Exception {
        launcher.start("retrain", "retrain-1", Map.of(), "bo", null);
        temporal.getWorkflowClient().newUntypedWorkflowStub("retrain-1").terminate("test");
        stores.runs().updateStatus("retrain-1", "cancelled");
        RunLauncher.Started retry = launcher.retry("retrain-1", "approve");
        assertThat(retry.waiting()).isFalse();
        assertThat(status("retrain-1"))
                .isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);

        RunLauncher.Started behind = launcher.start("retrain", "retrain-2", Map.of(), "bo", null);
        assertThat(behind.waiting()).as("the retry holds the slot").isTrue();
        stores.runs().updateStatus("retrain-1", "failed");
        assertThat(launcher.admitWaiting("retrain")).containsExactly("retrain-2");
        RunLauncher.Started queued = launcher.retry("retrain-1", "approve");
        assertThat(queued.waiting()).as("retrain-2 holds the slot").isTrue();
        assertThat(admissions.cancelWaiting("retrain-1")).isTrue();
        assertThat(stores.runs().find("retrain-1")).get().extracting(PipelineRun::status).isEqualTo("cancelled");
        assertThat(admissions.find("retrain-1")).isEmpty();
    }

    @Test
    void aRetryAskedForWhileThePreviousExecutionIsClosingStartsAfterItAndOnlyOnce() throws Exception {
        launcher.start("retrain", "retrain-1", Map.of(), "bo", null);
        // the run is recorded failed from inside its workflow, which closes a moment later
        stores.runs().updateStatus("retrain-1", "failed");
        ExecutorService closer = Executors.newSingleThreadExecutor();
        try {
            closer.submit(() -> {
                Thread.sleep(500);
                temporal.getWorkflowClient().newUntypedWorkflowStub("retrain-1").terminate("closing");
                return null;
            });
            RunLauncher.Started retry = launcher.retry("retrain-1", null);
            assertThat(retry.waiting()).isFalse();
        } finally {
            closer.shutdown();
        }
        assertThat(status("retrain-1"))
                .as("the retry's own execution, not the old one taken for it")
                .isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
        PipelineRun reopened = stores.runs().find("retrain-1").orElseThrow();
        assertThat(RunExecutions.describe(temporal.getWorkflowServiceStubs(), temporal.getNamespace(), "retrain-1"))
                .get().satisfies(latest -> assertThat(latest.startedFor(reopened.reopenedAt())).isTrue());

        // the retry's execution ends; a sweep holding a stale admission of that retry starts nothing new
        temporal.getWorkflowClient().newUntypedWorkflowStub("retrain-1").terminate("done");
        staleAdmission("retrain-1", true);
        launcher.admitWaiting("retrain");
        assertThat(status("retrain-1"))
                .isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
        assertThat(admissions.find("retrain-1")).isEmpty();
    }

    /** The admission another process still holds for a run it already started (its row not yet deleted). */
    private void staleAdmission(String runId, boolean retry) throws java.sql.SQLException {
        try (var c = stores.db().getConnection(); var st = c.prepareStatement("INSERT INTO pipeline_run_waits"
                + " (run_id, pipeline, max_active_runs, admitted_at, retry) VALUES (?, 'retrain', 1, now(), ?)")) {
            st.setString(1, runId);
            st.setBoolean(2, retry);
            st.execute();
        }
    }

    private io.temporal.api.enums.v1.WorkflowExecutionStatus status(String id) {
        return temporal.getWorkflowServiceStubs().blockingStub().describeWorkflowExecution(
                DescribeWorkflowExecutionRequest.newBuilder().setNamespace(temporal.getNamespace())
                        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id)).build())
                .getWorkflowExecutionInfo().getStatus();
    }

    private PipelinePlan startInput(String runId) {
        var history = temporal.getWorkflowClient().fetchHistory(runId);
        var payloads = history.getEvents().get(0).getWorkflowExecutionStartedEventAttributes().getInput();
        return DefaultDataConverter.newDefaultInstance().fromPayloads(0, java.util.Optional.of(payloads),
                PipelinePlan.class, PipelinePlan.class);
    }

    private boolean workflowExists(String id) {
        try {
            temporal.getWorkflowServiceStubs().blockingStub().describeWorkflowExecution(
                    DescribeWorkflowExecutionRequest.newBuilder().setNamespace(temporal.getNamespace())
                            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id)).build());
            return true;
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return false;
            }
            throw e;
        }
    }
}
