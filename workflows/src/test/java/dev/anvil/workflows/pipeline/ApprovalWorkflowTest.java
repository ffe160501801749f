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
import dev.anvil.workflows.approval.ApprovalFailures;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.approval.ApprovalRequest;
import dev.anvil.workflows.approval.ConfirmedDecision;
import dev.anvil.workflows.approval.DecisionToConfirm;
import dev.anvil.workflows.approval.RecordedDecision;
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
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The approval operator in the pipeline workflow: decisions by recorded id, confirmed by the activity
 * before they count; N reviewers, reject, timeouts (time skipping). The rules the activity applies
 * (roles, four-eyes, comments) are tested with the activity, against PostgreSQL.
 */
class ApprovalWorkflowTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private final FakeTasks tasks = new FakeTasks();
    private final RunStateActivities runs = mock(RunStateActivities.class, withSettings().withoutAnnotations());
    private final FakeApprovals approvals = new FakeApprovals();

    /** The database side, in memory: the decisions "the API" submitted, and what the workflow asked to record. */
    static final class FakeApprovals implements ApprovalActivities {
        record Submitted(String approvalId, String reviewer, String decision, String comment) {}

        final List<ApprovalRequest> opened = new CopyOnWriteArrayList<>();
        final List<String> decisions = new CopyOnWriteArrayList<>();
        final Map<String, Integer> approvals = new ConcurrentHashMap<>();
        final List<String> timedOut = new CopyOnWriteArrayList<>();
        final Map<String, Integer> required = new ConcurrentHashMap<>();
        final Map<String, Submitted> submitted = new ConcurrentHashMap<>();
        final List<String> confirmed = new CopyOnWriteArrayList<>();

        /** What the API does before it tells the workflow: writes the decision, keeps its id. */
        String submit(String approvalId, String reviewer, String decision, String comment) {
            String id = UUID.randomUUID().toString();
            submitted.put(id, new Submitted(approvalId, reviewer, decision, comment));
            return id;
        }

        public void open(ApprovalRequest request) {
            opened.add(request);
            required.put(request.approvalId(), request.requiredApprovals());
        }

        public ConfirmedDecision confirmDecision(DecisionToConfirm check) {
            confirmed.add(check.decisionId());
            Submitted s = submitted.get(check.decisionId());
            if (s == null || !s.approvalId().equals(check.approvalId())) {
                throw ApplicationFailure.newNonRetryableFailure("no decision '" + check.decisionId()
                        + "' was submitted for approval " + check.approvalId(), ApprovalFailures.UNKNOWN_DECISION);
            }
            if (s.decision().equals("approve") && s.reviewer().equals(check.requester())) {
                throw ApplicationFailure.newNonRetryableFailure("'" + s.reviewer() + "' may not approve their own run",
                        ApprovalFailures.FOUR_EYES);
            }
            String state = recordDecision(s.approvalId(), s.reviewer(), s.decision(), s.comment());
            return new ConfirmedDecision(s.reviewer(), s.decision(), s.comment(), state);
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

    private static ApplicationFailure refusal(Runnable update) {
        try {
            update.run();
        } catch (WorkflowUpdateException e) {
            return (ApplicationFailure) e.getCause();
        }
        throw new AssertionError("the update was accepted");
    }

    /** The API's part: submit the decision, then send the workflow its id. */
    private ApprovalOutcome decide(PipelineWorkflow wf, String approvalId, String reviewer, String decision, String comment) {
        return wf.decideRecorded(new RecordedDecision("approve", approvals.submit(approvalId, reviewer, decision, comment)));
    }

    private static boolean anUpdateIn(TestWorkflowEnvironment env, String runId) {
        return env.getWorkflowClient().fetchHistory(runId).getHistory().getEventsList().stream()
                .anyMatch(e -> e.getEventType().name().contains("UPDATE"));
    }

    @Test
    void aReviewerApprovesAndTheRunGoesOn(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-approve", Map.of());
        assertThat(wf.state().tasks().get(1).outputs()).containsEntry("approval", "run-approve.approve.1");
        assertThat(approvals.opened.get(0).requestedBy()).isEqualTo("sam");
        assertThat(tasks.started).containsExactly("gate");

        ApprovalOutcome outcome = decide(wf, "run-approve.approve.1", "rita", "approve", "numbers look right");

        assertThat(outcome.state()).isEqualTo("approved");
        RunState end = result(env, "run-approve");
        assertThat(statuses(end)).containsExactly("gate=success", "approve=success", "deploy=success");
        assertThat(end.tasks().get(1).outputs()).containsEntry("approved_by", List.of("rita"));
        assertThat(tasks.recorded).contains("approve=success");
    }

    @Test
    void aDecisionTheActivityRefusesFailsTheUpdateAndTheRunKeepsWaiting(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-four-eyes", Map.of());

        ApplicationFailure refused = refusal(() -> decide(wf, "run-four-eyes.approve.1", "sam", "approve", null));

        assertThat(refused.getOriginalMessage()).isEqualTo("'sam' may not approve their own run");
        assertThat(refused.getType()).isEqualTo(ApprovalFailures.FOUR_EYES);
        assertThat(approvals.decisions).isEmpty();
        assertThat(wf.state().tasks().get(1).status()).isEqualTo("running");
        assertThat(decide(wf, "run-four-eyes.approve.1", "rita", "approve", null).state()).isEqualTo("approved");
        assertThat(statuses(result(env, "run-four-eyes"))).containsExactly("gate=success", "approve=success", "deploy=success");
    }

    @Test
    void theValidatorRefusesWhatNeedsNoDatabaseBeforeItReachesHistory(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-shape", Map.of());
        String id = approvals.submit("run-shape.approve.1", "rita", "approve", null);

        assertThat(refusal(() -> wf.decideRecorded(new RecordedDecision("approve", null))).getOriginalMessage())
                .startsWith("a decision names its approval task and the id Anvil's API submitted it under");
        assertThat(refusal(() -> wf.decideRecorded(new RecordedDecision("deploy", id))).getOriginalMessage())
                .isEqualTo("task 'deploy' of run run-shape is not waiting for approval (it is queued)");
        assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", "rita", List.of("reviewer"), "approve", null)))
                .getOriginalMessage()).startsWith("decide no longer takes a reviewer's name and roles");
        assertThat(approvals.confirmed).isEmpty();
        assertThat(anUpdateIn(env, "run-shape")).isFalse();
        assertThat(wf.state().tasks().get(1).status()).isEqualTo("running");
    }

    @Test
    void requiredApprovalsNeedsThatManyDecisionsAndEachIdCountsOnce(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-two", Map.of("required_approvals", 2));
        String rita = approvals.submit("run-two.approve.1", "rita", "approve", null);

        assertThat(wf.decideRecorded(new RecordedDecision("approve", rita)).state()).isEqualTo("pending");
        assertThat(refusal(() -> wf.decideRecorded(new RecordedDecision("approve", rita))).getOriginalMessage())
                .isEqualTo("decision '" + rita + "' was already used on approval run-two.approve.1; each decision counts once");
        assertThat(approvals.confirmed).containsExactly(rita);
        assertThat(wf.state().tasks().get(1).status()).isEqualTo("running");
        ApprovalOutcome second = decide(wf, "run-two.approve.1", "rob", "approve", "ok");

        assertThat(second.approvedBy()).containsExactly("rita", "rob");
        assertThat(statuses(result(env, "run-two"))).containsExactly("gate=success", "approve=success", "deploy=success");
    }

    @Test
    void aRejectFailsTheRun(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-reject", Map.of());

        // the submitter may withdraw their own run: four-eyes guards approvals only
        decide(wf, "run-reject.approve.1", "sam", "reject", "wrong calibration set");

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
        decide(wf, "run-auto-reject.approve.1", "rita", "approve", null);

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
        assertThatThrownBy(() -> decide(wf, "run-bad-timeout.approve.1", "rita", "approve", null))
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
