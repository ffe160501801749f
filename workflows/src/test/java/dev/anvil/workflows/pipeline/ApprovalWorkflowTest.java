package dev.anvil.workflows.pipeline;

import static dev.anvil.workflows.pipeline.RunAssertions.ACTIVITY_WAIT;
import static dev.anvil.workflows.pipeline.RunAssertions.statuses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.approval.ApprovalActivities;
import dev.anvil.workflows.approval.ApprovalDecision;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.approval.ApprovalRequest;
import dev.anvil.workflows.runs.RunStateActivities;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The approval operator in the pipeline workflow: role rules, four-eyes, N reviewers, reject, timeouts (time skipping). */
class ApprovalWorkflowTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private static final List<String> REVIEWER = List.of("reviewer");

    private final FakeTasks tasks = new FakeTasks();
    private final RunStateActivities runs = mock(RunStateActivities.class, withSettings().withoutAnnotations());
    private final FakeApprovals approvals = new FakeApprovals();

    /** The database side, in memory: what the workflow asked to record. */
    static final class FakeApprovals implements ApprovalActivities {
        final List<ApprovalRequest> opened = new CopyOnWriteArrayList<>();
        final List<String> decisions = new CopyOnWriteArrayList<>();
        final Map<String, Integer> approvals = new ConcurrentHashMap<>();
        final List<String> timedOut = new CopyOnWriteArrayList<>();
        final Map<String, Integer> required = new ConcurrentHashMap<>();

        public void open(ApprovalRequest request) {
            opened.add(request);
            required.put(request.approvalId(), request.requiredApprovals());
        }

        public String recordDecision(String approvalId, String reviewer, String decision, String comment) {
            decisions.add(reviewer + ":" + decision + (comment == null ? "" : ":" + comment));
            if (decision.equals("reject")) {
                return "rejected";
            }
            int n = approvals.merge(approvalId, 1, Integer::sum);
            return n >= required.get(approvalId) ? "approved" : "pending";
        }

        public void withdraw(String approvalId) {
            timedOut.add(approvalId + ":withdrawn");
        }

        public String timeOut(String approvalId, boolean autoReject, String waited) {
            timedOut.add(approvalId + (autoReject ? ":reject" : ":expire"));
            return autoReject ? "rejected" : "expired";
        }
    }

    private PipelineWorkflow start(TestWorkflowEnvironment env, Worker worker, String runId, Map<String, Object> approvalWith) {
        worker.registerActivitiesImplementations(tasks, runs, approvals);
        env.start();
        List<PlannedTask> planned = List.of(
                new PlannedTask("gate", "noop", List.of(), "all_success", 0, Duration.ofSeconds(1), Duration.ofMinutes(5),
                        worker.getTaskQueue(), Map.of(), false),
                new PlannedTask("approve", "approval", List.of("gate"), "all_success", 0, Duration.ofSeconds(1),
                        Duration.ofMinutes(5), worker.getTaskQueue(), approvalWith, false),
                new PlannedTask("deploy", "noop", List.of("approve"), "all_success", 0, Duration.ofSeconds(1),
                        Duration.ofMinutes(5), worker.getTaskQueue(), Map.of(), false));
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(worker.getTaskQueue()).build());
        WorkflowClient.start(wf::run, new PipelinePlan("p", 1, Map.of(), planned, 4, "sam"));
        await("the approval opened").atMost(ACTIVITY_WAIT).until(() -> !approvals.opened.isEmpty());
        return wf;
    }

    private static RunState result(TestWorkflowEnvironment env, String runId) {
        return env.getWorkflowClient().newUntypedWorkflowStub(runId).getResult(RunState.class);
    }

    private static String refusal(Runnable update) {
        try {
            update.run();
        } catch (WorkflowUpdateException e) {
            // a validator's failure type does not survive the trip back (the SDK wraps it); the message does
            return ((ApplicationFailure) e.getCause()).getOriginalMessage();
        }
        throw new AssertionError("the update was accepted");
    }

    @Test
    void aReviewerApprovesAndTheRunGoesOn(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-approve", Map.of());
        assertThat(wf.state().tasks().get(1).outputs()).containsEntry("approval", "run-approve.approve.1");
        assertThat(approvals.opened.get(0).requestedBy()).isEqualTo("sam");
        assertThat(tasks.started).containsExactly("gate");

        ApprovalOutcome outcome = wf.decide(new ApprovalDecision("approve", "rita", REVIEWER, "approve", "numbers look right"));

        assertThat(outcome.state()).isEqualTo("approved");
        RunState end = result(env, "run-approve");
        assertThat(statuses(end)).containsExactly("gate=success", "approve=success", "deploy=success");
        assertThat(end.tasks().get(1).outputs()).containsEntry("approved_by", List.of("rita"));
        assertThat(tasks.recorded).contains("approve=success");
    }

    @Test
    void theSubmitterMayNotApproveTheirOwnRunAndTheRefusalNeverReachesHistory(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-four-eyes", Map.of());

        assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", "sam", REVIEWER, "approve", null))))
                .isEqualTo("'sam' submitted run run-four-eyes and may not approve it"
                        + " (four-eyes rule); another reviewer must");
        assertThat(approvals.decisions).isEmpty();
        assertThat(env.getWorkflowClient().fetchHistory("run-four-eyes").getHistory().getEventsList())
                .noneMatch(e -> e.getEventType().name().contains("UPDATE"));
        assertThat(wf.state().tasks().get(1).status()).isEqualTo("running");
    }

    @Test
    void onlyReviewersDecide(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-roles", Map.of());

        assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", "ada", List.of("admin", "submitter"), "approve", null))))
                .startsWith("'ada' does not have the reviewer role");
        assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", "rita", REVIEWER, "merge", null))))
                .startsWith("decision must be 'approve' or 'reject'");
        assertThat(refusal(() -> wf.decide(new ApprovalDecision("deploy", "rita", REVIEWER, "approve", null))))
                .startsWith("task 'deploy' of run run-roles is not waiting for approval (it is queued)");
        assertThat(approvals.decisions).isEmpty();
    }

    @Test
    void requiredApprovalsNeedsThatManyDistinctReviewers(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-two", Map.of("required_approvals", 2));

        assertThat(wf.decide(new ApprovalDecision("approve", "rita", REVIEWER, "approve", null)).state()).isEqualTo("pending");
        assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", "rita", REVIEWER, "approve", null))))
                .startsWith("'rita' already decided");
        assertThat(wf.state().tasks().get(1).status()).isEqualTo("running");
        ApprovalOutcome second = wf.decide(new ApprovalDecision("approve", "rob", REVIEWER, "approve", "ok"));

        assertThat(second.approvedBy()).containsExactly("rita", "rob");
        assertThat(statuses(result(env, "run-two"))).containsExactly("gate=success", "approve=success", "deploy=success");
    }

    @Test
    void aRejectNeedsACommentAndFailsTheRun(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-reject", Map.of());

        assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", "rita", REVIEWER, "reject", " "))))
                .isEqualTo("a reject needs a comment saying why");
        // the submitter may withdraw their own run: four-eyes guards approvals only
        wf.decide(new ApprovalDecision("approve", "sam", REVIEWER, "reject", "wrong calibration set"));

        RunState end = result(env, "run-reject");
        assertThat(end.status()).isEqualTo("failed");
        assertThat(statuses(end)).containsExactly("gate=success", "approve=failed", "deploy=upstream_failed");
        assertThat(end.tasks().get(1).error()).isEqualTo("rejected by sam: wrong calibration set");
        assertThat(tasks.recorded).contains("approve=failed", "deploy=upstream_failed");
    }

    @Test
    void aTimeoutFailsTheTaskWithAClearState(TestWorkflowEnvironment env, Worker worker) {
        start(env, worker, "run-timeout", Map.of("timeout", "2d"));

        RunState end = result(env, "run-timeout");  // the test server skips the two days

        assertThat(statuses(end)).containsExactly("gate=success", "approve=failed", "deploy=upstream_failed");
        assertThat(end.tasks().get(1).error()).isEqualTo("approval expired: no decision within 2d (0 of 1 approvals)");
        assertThat(approvals.timedOut).containsExactly("run-timeout.approve.1:expire");
    }

    @Test
    void aTimeoutCanRejectAutomatically(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-auto-reject", Map.of("timeout", "1h", "on_timeout", "reject",
                "required_approvals", 2));
        wf.decide(new ApprovalDecision("approve", "rita", REVIEWER, "approve", null));

        RunState end = result(env, "run-auto-reject");

        assertThat(end.tasks().get(1).error()).isEqualTo("rejected automatically: no decision within 1h (1 of 2 approvals)");
        assertThat(approvals.timedOut).containsExactly("run-auto-reject.approve.1:reject");
    }

    @Test
    void aTimeoutThatIsNotADurationFailsTheTaskByName(TestWorkflowEnvironment env, Worker worker) {
        worker.registerActivitiesImplementations(tasks, runs, approvals);
        env.start();
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId("run-bad-timeout").setTaskQueue(worker.getTaskQueue()).build());
        RunState end = wf.run(new PipelinePlan("p", 1, Map.of(), List.of(new PlannedTask("approve", "approval", List.of(),
                "all_success", 0, Duration.ofSeconds(1), Duration.ofMinutes(5), worker.getTaskQueue(),
                Map.of("timeout", "two days"), false)), 4, "sam"));
        assertThat(end.tasks().get(0).error()).startsWith("approval: with.timeout 'two days' is not a duration such as");
        assertThatThrownBy(() -> wf.decide(new ApprovalDecision("approve", "rita", REVIEWER, "approve", null)))
                .isInstanceOf(RuntimeException.class);
    }

    @Test
    void cancellingTheRunWithdrawsTheWaitingApproval(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-cancel", Map.of());
        io.temporal.client.WorkflowStub.fromTyped(wf).cancel();

        assertThatThrownBy(() -> result(env, "run-cancel")).isInstanceOf(io.temporal.client.WorkflowFailedException.class);
        assertThat(approvals.timedOut).containsExactly("run-cancel.approve.1:withdrawn");
        assertThat(tasks.recorded).contains("approve=failed", "deploy=skipped");
    }
}
