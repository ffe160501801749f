package dev.anvil.workflows.pipeline;

import static dev.anvil.workflows.pipeline.RunAssertions.ACTIVITY_WAIT;
import static dev.anvil.workflows.pipeline.RunAssertions.statuses;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.RecordedHistories;
import dev.anvil.workflows.approval.RecordedDecision;
import dev.anvil.workflows.runs.RunStateActivities;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.common.RetryOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.NonDeterministicException;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Replays recorded histories of real {@link PipelineWorkflowImpl} runs against today's code, so a
 * change that would break runs already in flight (a new activity, a reordered task, a timer) fails
 * the build instead of a production worker. Such a change must go through
 * {@code Workflow.getVersion}; {@link #aVersionedChangeStillReplays} shows the shape.
 *
 * <p>The histories live in {@code src/test/resources/histories/pipeline-*.json} and cover a
 * fan-out/fan-in DAG with a failure and trigger rules (tasks skipped and upstream_failed), a task
 * that succeeds after retries, a cancelled run, and an approval (one decision refused by the
 * confirming activity, one approving). {@code RecordedHistoriesReplayTest} replays them; this class
 * checks they still cover what it says, and records them anew, only on purpose, with every other
 * history ({@value RecordedHistories#RECORD_COMMAND}). Regenerate them when the recorded scenarios
 * themselves change, never to make a failing replay pass: that failure is the signal that running
 * workflows would break.
 *
 * <p>{@value #APPROVAL_BY_NAME} is frozen: an approval decided by two {@code decide} Updates that
 * carried the reviewer's name and roles (one approve, one reject), recorded at commit ac664ce, before
 * decisions were recorded in PostgreSQL first and confirmed by an activity. Today's code refuses such
 * Updates, so it cannot be recorded again; it proves that runs decided that way still replay.
 *
 * <p>{@value #CANARY_ACTIVITY} is frozen too: a canary task run as one {@code RunTask} activity (the operator that
 * started the rollout and polled it), recorded at commit 3f03a26, before a canary task ran its rollout as a child
 * workflow behind {@code Workflow.getVersion("canary-as-child-workflow")}. {@value #CANARY_CHILD} is the same
 * pipeline today: the version marker, the admitting activity, the child rollout, the activity that records the end.
 *
 * <p>{@value #FAN_OUT_STATE_ACTIVITIES} and {@value #CANCELLED_STATE_ACTIVITIES} are frozen copies of
 * {@value #FAN_OUT} and {@value #CANCELLED} recorded at commit e3881f7, before {@code Workflow.getVersion("local-state-writes")}:
 * {@code RunStarted}, {@code RecordTaskState} and {@code RunFinished} ran as ordinary activities, each with its own
 * workflow task. Today's recordings run them as local activities (markers in the history).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineWorkflowReplayTest {

    static final String FAN_OUT = "pipeline-fan-out-failure";
    static final String RETRIES = "pipeline-retries-then-success";
    static final String CANCELLED = "pipeline-cancelled";
    static final String APPROVAL_BY_NAME = "pipeline-approval-by-name";
    static final String APPROVAL = "pipeline-approval";
    static final String CANARY_ACTIVITY = "pipeline-canary-activity";
    static final String CANARY_CHILD = "pipeline-canary-child";
    static final String FAN_OUT_STATE_ACTIVITIES = "pipeline-fan-out-state-activities";
    static final String CANCELLED_STATE_ACTIVITIES = "pipeline-cancelled-state-activities";

    @Test
    void recordedRunsEndAsTheirScenariosSay() {
        // guards against a regenerated file that no longer covers what this class promises
        assertThat(lastEventType(FAN_OUT)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
        assertThat(lastEventType(RETRIES)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
        assertThat(lastEventType(CANCELLED)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
        assertThat(statuses(recordedResult(FAN_OUT))).contains("train_b=failed", "join=upstream_failed",
                "report=success", "alert=success", "rollback=skipped");
        assertThat(statuses(recordedResult(RETRIES))).containsExactly("fetch=success", "use=success");
        assertThat(statuses(recordedResult(APPROVAL_BY_NAME))).containsExactly("gate=success", "approve=failed",
                "deploy=upstream_failed");
        assertThat(recordedResult(APPROVAL_BY_NAME).tasks().get(1).error()).isEqualTo("rejected by rob: wrong calibration set");
        assertThat(RecordedHistories.load(APPROVAL_BY_NAME).getEvents())
                .filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).hasSize(2);
        assertThat(RecordedHistories.load(RETRIES).getEvents())
                .anyMatch(e -> e.hasActivityTaskStartedEventAttributes()
                        && e.getActivityTaskStartedEventAttributes().getAttempt() == 3);
        assertThat(statuses(recordedResult(APPROVAL))).containsExactly("gate=success", "approve=success", "deploy=success");
        assertThat(recordedResult(APPROVAL).tasks().get(1).outputs()).containsEntry("approved_by", List.of("rita"));
        // the refused decision and the approving one, both by recorded id
        assertThat(RecordedHistories.load(APPROVAL).getEvents())
                .filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
                .extracting(e -> e.getWorkflowExecutionUpdateCompletedEventAttributes().getOutcome().hasFailure())
                .containsExactly(true, false);
        assertThat(statuses(recordedResult(CANARY_ACTIVITY))).containsExactly("build=success", "rollout=success");
        assertThat(RecordedHistories.load(CANARY_ACTIVITY).getEvents())
                .noneMatch(e -> e.getEventType() == EventType.EVENT_TYPE_MARKER_RECORDED)
                .filteredOn(e -> e.hasActivityTaskScheduledEventAttributes())
                .extracting(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
                .containsSubsequence("RunTask", "RunTask");
        assertThat(statuses(recordedResult(CANARY_CHILD))).containsExactly("build=success", "rollout=success");
        assertThat(recordedResult(CANARY_CHILD).tasks().get(1).outputs()).containsEntry("state", "promoted");
        assertThat(RecordedHistories.load(CANARY_CHILD).getEvents())
                .anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_MARKER_RECORDED)
                .anyMatch(e -> e.hasStartChildWorkflowExecutionInitiatedEventAttributes()
                        && e.getStartChildWorkflowExecutionInitiatedEventAttributes().getWorkflowId()
                        .equals("rollout-" + CANARY_CHILD + "-rollout"))
                .filteredOn(e -> e.hasActivityTaskScheduledEventAttributes())
                .extracting(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
                .containsExactly("RunTask", "CanaryPrepare", "CanaryFinish");
        // state writes: ordinary activities before local-state-writes, local activities (markers) since
        assertThat(statuses(recordedResult(FAN_OUT_STATE_ACTIVITIES))).contains("train_b=failed", "join=upstream_failed",
                "rollback=skipped");
        assertThat(scheduledActivities(FAN_OUT_STATE_ACTIVITIES)).contains("RunStarted", "RecordTaskState", "RunFinished");
        assertThat(lastEventType(CANCELLED_STATE_ACTIVITIES)).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
        assertThat(scheduledActivities(CANCELLED_STATE_ACTIVITIES)).contains("RunStarted", "RecordTaskState", "RunFinished");
        for (String name : List.of(FAN_OUT, CANCELLED, RETRIES, APPROVAL, CANARY_CHILD)) {
            assertThat(scheduledActivities(name)).as(name).doesNotContain("RunStarted", "RecordTaskState", "RunFinished");
            assertThat(localActivities(name)).as(name).contains("RunStarted", "RunFinished");
        }
        assertThat(localActivities(FAN_OUT)).contains("RecordTaskState");
        assertThat(localActivities(CANCELLED)).contains("RecordTaskState");
    }

    private static List<String> scheduledActivities(String name) {
        return RecordedHistories.load(name).getEvents().stream()
                .filter(e -> e.hasActivityTaskScheduledEventAttributes())
                .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName())
                .toList();
    }

    /** The activity types of the local activity markers in a history. */
    private static List<String> localActivities(String name) {
        return RecordedHistories.load(name).getEvents().stream()
                .filter(e -> e.hasMarkerRecordedEventAttributes()
                        && e.getMarkerRecordedEventAttributes().getMarkerName().equals("LocalActivity"))
                .map(e -> e.getMarkerRecordedEventAttributes().getDetailsMap().get("type"))
                .map(p -> DefaultDataConverter.newDefaultInstance()
                        .fromPayloads(0, Optional.of(p), String.class, String.class))
                .toList();
    }

    @Test
    void anUnversionedChangeIsCaughtAsNonDeterministic() {
        WorkflowExecutionHistory history = RecordedHistories.load(FAN_OUT);
        assertThatThrownBy(() -> WorkflowReplayer.replayWorkflowExecution(history, AuditsFirstUnversioned.class))
                .satisfies(PipelineWorkflowReplayTest::isNonDeterminism);
    }

    @Test
    void reorderingTasksIsCaughtAsNonDeterministic() {
        WorkflowExecutionHistory history = RecordedHistories.load(FAN_OUT);
        assertThatThrownBy(() -> WorkflowReplayer.replayWorkflowExecution(history, WalksTasksInReverse.class))
                .satisfies(PipelineWorkflowReplayTest::isNonDeterminism);
    }

    @Test
    void aVersionedChangeStillReplays() throws Exception {
        WorkflowReplayer.replayWorkflowExecution(RecordedHistories.load(FAN_OUT), AuditsFirstVersioned.class);
    }

    /**
     * The replayer reports the worker's verdict as a failed replay query whose message carries the
     * SDK's NonDeterministicException (error code TMPRL1100), so look for it by type and by name.
     */
    private static void isNonDeterminism(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof NonDeterministicException
                    || (t.getMessage() != null && t.getMessage().contains(NonDeterministicException.class.getName()))) {
                return;
            }
        }
        throw new AssertionError("expected the replay to fail with a NonDeterministicException, got " + thrown, thrown);
    }

    private static RunState recordedResult(String name) {
        Payloads result = RecordedHistories.load(name).getLastEvent()
                .getWorkflowExecutionCompletedEventAttributes().getResult();
        return DefaultDataConverter.newDefaultInstance()
                .fromPayloads(0, Optional.of(result), RunState.class, RunState.class);
    }

    private static EventType lastEventType(String name) {
        return RecordedHistories.load(name).getLastEvent().getEventType();
    }

    // ---- deliberately changed implementations, registered under the same workflow type ----

    private static final ActivityOptions AUDIT = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(3).build())
            .build();

    /** Adds an activity before the run starts, without Workflow.getVersion: old runs cannot replay. */
    public static class AuditsFirstUnversioned extends PipelineWorkflowImpl {
        @Override
        public RunState run(PipelinePlan plan) {
            Workflow.newActivityStub(TaskActivities.class, AUDIT)
                    .recordTaskState(Workflow.getInfo().getWorkflowId(), "audit", "noop", 1, TaskState.QUEUED, null);
            return super.run(plan);
        }
    }

    /** The same change behind Workflow.getVersion: runs recorded before it keep the old path. */
    public static class AuditsFirstVersioned extends PipelineWorkflowImpl {
        static final String AUDIT_BEFORE_START = "audit-before-start";

        @Override
        public RunState run(PipelinePlan plan) {
            if (Workflow.getVersion(AUDIT_BEFORE_START, Workflow.DEFAULT_VERSION, 1) == 1) {
                Workflow.newActivityStub(TaskActivities.class, AUDIT)
                        .recordTaskState(Workflow.getInfo().getWorkflowId(), "audit", "noop", 1, TaskState.QUEUED, null);
            }
            return super.run(plan);
        }
    }

    /** Walks the DAG's tasks in reverse declaration order: commands come out in another order. */
    public static class WalksTasksInReverse extends PipelineWorkflowImpl {
        @Override
        public RunState run(PipelinePlan plan) {
            List<PlannedTask> reversed = new ArrayList<>(plan.tasks());
            Collections.reverse(reversed);
            // the recorded runs are first attempts, so nothing else of the plan needs carrying over
            return super.run(new PipelinePlan(plan.pipeline(), plan.pipelineVersion(), plan.params(), reversed,
                    plan.maxParallelTasks(), plan.submittedBy()).withLogicalDate(plan.logicalDate()));
        }
    }

    // ---- recording: run the scenarios for real and write their histories ----

    @Test
    @Order(0)
    @EnabledIfSystemProperty(named = RecordedHistories.RECORD_PROPERTY, matches = "true")
    void recordHistories() {
        recordFanOutWithFailure();
        recordRetriesThenSuccess();
        recordCancelledRun();
        recordApproval();
        recordCanaryChild();
    }

    /** The canary task as the pipeline runs it today: checks, the rollout as a child workflow, the task's record. */
    private void recordCanaryChild() {
        FakeTasks tasks = new FakeTasks();
        try (TestWorkflowEnvironment env = RecordedHistories.newRecordingEnvironment()) {
            Worker worker = env.newWorker(RecordedHistories.TASK_QUEUE);
            worker.registerWorkflowImplementationTypes(PipelineWorkflowImpl.class,
                    dev.anvil.workflows.rollout.CanaryRolloutWorkflowImpl.class);
            worker.registerActivitiesImplementations(tasks, new FakeCanaryTasks(),
                    new dev.anvil.workflows.rollout.FakeRollout(10_000, 0, 0),
                    mock(RunStateActivities.class, withSettings().withoutAnnotations()));
            env.start();
            RunState state = start(env, CANARY_CHILD, List.of(
                    task("build", List.of(), "all_success", 0, Map.of()),
                    new PlannedTask("rollout", "canary", List.of("build"), "all_success", 0, Duration.ofSeconds(5),
                            Duration.ofMinutes(30), "anvil-cpu", Map.of("endpoint", "digits",
                            "model", "${tasks.build.outputs.value}"), false)))
                    .getResult(RunState.class);
            assertThat(statuses(state)).containsExactly("build=success", "rollout=success");
            RecordedHistories.save(env.getWorkflowClient(), CANARY_CHILD, CANARY_CHILD);
        }
    }

    private void recordFanOutWithFailure() {
        FakeTasks tasks = new FakeTasks();
        tasks.invalidInput.put("train_b", "train_b: dataset shard 2 is empty");
        record(FAN_OUT, tasks, List.of(), (env, worker) -> {
            RunState state = start(env, FAN_OUT, List.of(
                    task("prepare", List.of(), "all_success", 0, Map.of("model", "${params.model}")),
                    task("train_a", List.of("prepare"), "all_success", 0, Map.of("in", "${tasks.prepare.outputs.value}")),
                    task("train_b", List.of("prepare"), "all_success", 0, Map.of()),
                    task("train_c", List.of("prepare"), "all_success", 0, Map.of()),
                    task("join", List.of("train_a", "train_b", "train_c"), "all_success", 0, Map.of()),
                    task("report", List.of("train_a", "train_b", "train_c"), "all_done", 0, Map.of()),
                    task("alert", List.of("train_a", "train_b", "train_c"), "one_failed", 0, Map.of()),
                    task("rollback", List.of("train_a"), "all_failed", 0, Map.of()),
                    task("after_rollback", List.of("rollback"), "all_success", 0, Map.of())))
                    .getResult(RunState.class);
            assertThat(statuses(state)).containsExactly("prepare=success", "train_a=success", "train_b=failed",
                    "train_c=success", "join=upstream_failed", "report=success", "alert=success", "rollback=skipped",
                    "after_rollback=skipped");
        });
    }

    private void recordRetriesThenSuccess() {
        FakeTasks tasks = new FakeTasks();
        tasks.failuresBeforeSuccess.put("fetch", 2);
        record(RETRIES, tasks, List.of(), (env, worker) -> {
            RunState state = start(env, RETRIES, List.of(
                    task("fetch", List.of(), "all_success", 2, Map.of()),
                    task("use", List.of("fetch"), "all_success", 0, Map.of("in", "${tasks.fetch.outputs.value}"))))
                    .getResult(RunState.class);
            assertThat(state.status()).isEqualTo("success");
            assertThat(tasks.attempts.get("fetch").get()).isEqualTo(3);
        });
    }

    private void recordCancelledRun() {
        FakeTasks tasks = new FakeTasks();
        CountDownLatch release = new CountDownLatch(1);
        tasks.blockUntil.put("long", release);
        record(CANCELLED, tasks, List.of(), (env, worker) -> {
            WorkflowStub stub = start(env, CANCELLED, List.of(
                    task("quick", List.of(), "all_success", 0, Map.of()),
                    task("long", List.of(), "all_success", 0, Map.of()),
                    task("after", List.of("quick", "long"), "all_success", 0, Map.of())));
            await("both tasks started").atMost(ACTIVITY_WAIT)
                    .until(() -> tasks.started.contains("long") && tasks.started.contains("quick"));
            await("quick recorded as success").atMost(ACTIVITY_WAIT).until(() -> statuses(env.getWorkflowClient()
                    .newWorkflowStub(PipelineWorkflow.class, CANCELLED).state()).contains("quick=success"));
            stub.cancel();
            assertThatThrownBy(() -> stub.getResult(RunState.class)).isInstanceOf(WorkflowFailedException.class);
            release.countDown();
        });
    }

    /**
     * A gate, an approval and a deploy: the requester's own approval is refused by the activity (the
     * Update fails and the approval keeps waiting), then another reviewer's approval lets the run finish.
     */
    private void recordApproval() {
        FakeTasks tasks = new FakeTasks();
        ApprovalWorkflowTest.FakeApprovals approvals = new ApprovalWorkflowTest.FakeApprovals();
        record(APPROVAL, tasks, List.of(approvals), (env, worker) -> {
            WorkflowStub stub = start(env, APPROVAL, List.of(
                    task("gate", List.of(), "all_success", 0, Map.of()),
                    new PlannedTask("approve", "approval", List.of("gate"), "all_success", 0, Duration.ofSeconds(5),
                            Duration.ofMinutes(5), "anvil-cpu", Map.of(), false),
                    task("deploy", List.of("approve"), "all_success", 0, Map.of())));
            await("the approval opened").atMost(ACTIVITY_WAIT).until(() -> !approvals.opened.isEmpty());
            PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class, APPROVAL);
            String approvalId = approvals.opened.get(0).approvalId();
            String own = approvals.submit(approvalId, "recorder", "approve", null);
            assertThatThrownBy(() -> wf.decideRecorded(new RecordedDecision("approve", own)))
                    .isInstanceOf(WorkflowUpdateException.class);
            String rita = approvals.submit(approvalId, "rita", "approve", "numbers look right");
            assertThat(wf.decideRecorded(new RecordedDecision("approve", rita)).state()).isEqualTo("approved");
            assertThat(statuses(stub.getResult(RunState.class)))
                    .containsExactly("gate=success", "approve=success", "deploy=success");
        });
    }

    private static void record(String name, FakeTasks tasks, List<Object> more, RecordedHistories.Scenario scenario) {
        List<Object> activities = new ArrayList<>(List.of(tasks,
                mock(RunStateActivities.class, withSettings().withoutAnnotations())));
        activities.addAll(more);
        RecordedHistories.record(name, PipelineWorkflowImpl.class, activities, scenario);
    }

    private static WorkflowStub start(TestWorkflowEnvironment env, String runId, List<PlannedTask> planned) {
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(RecordedHistories.TASK_QUEUE).build());
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("model", "m.onnx");
        List<PlannedTask> onWorkerQueue = planned.stream().map(t -> new PlannedTask(t.id(), t.operator(), t.upstream(),
                t.triggerRule(), t.retries(), t.retryDelay(), t.executionTimeout(), RecordedHistories.TASK_QUEUE, t.with(),
                t.cache())).toList();
        WorkflowClient.start(wf::run, new PipelinePlan("replay", 1, params, onWorkerQueue, 16, "recorder"));
        return WorkflowStub.fromTyped(wf);
    }

    private static PlannedTask task(String id, List<String> upstream, String rule, int retries, Map<String, Object> with) {
        return new PlannedTask(id, "noop", upstream, rule, retries, Duration.ofSeconds(5), Duration.ofMinutes(5),
                "anvil-cpu", with, true);
    }
}
