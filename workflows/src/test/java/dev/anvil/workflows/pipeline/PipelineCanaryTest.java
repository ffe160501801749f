package dev.anvil.workflows.pipeline;

import static dev.anvil.workflows.pipeline.RunAssertions.statuses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.rollout.CanaryResult;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflowImpl;
import dev.anvil.workflows.rollout.FakeRollout;
import dev.anvil.workflows.rollout.RolloutControl;
import dev.anvil.workflows.rollout.RolloutStatus;
import dev.anvil.workflows.runs.RunStateActivities;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The canary operator in the pipeline workflow: an activity admits the rollout, then the rollout runs as a child
 * {@link CanaryRolloutWorkflow} under {@code rollout-<run>-<task>}, steered by the rollout API's Updates by that id.
 * The canary task's execution timeout here is 30 minutes; a person's pause outlasts it (time skipping). Time may
 * skip between two calls of a test, so the tests that steer a rollout use one that cannot end on its own.
 */
class PipelineCanaryTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineWorkflowImpl.class, CanaryRolloutWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private final FakeTasks tasks = new FakeTasks();
    private final FakeCanaryTasks canaryTasks = new FakeCanaryTasks();
    private final RunStateActivities runs = mock(RunStateActivities.class, withSettings().withoutAnnotations());

    @Test
    void aCanaryThatPassesEveryStepIsPromotedAndTheTaskSucceeds(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout rollout = new FakeRollout(10_000, 0, 0);
        RunState state = WorkflowStub.fromTyped(start(env, worker, rollout, "promote-run", Map.of("endpoint", "digits")))
                .getResult(RunState.class);

        assertThat(statuses(state)).containsExactly("build=success", "rollout=success");
        assertThat(state.tasks().get(1).outputs()).containsEntry("rollout", "rollout-promote-run-rollout")
                .containsEntry("state", "promoted").containsEntry("candidate_version", FakeRollout.CANDIDATE)
                .containsEntry("windows", 4);
        assertThat(rollout.weights).containsExactly(5, 25, 50, 100);
        assertThat(rollout.finishes).containsExactly("promoted by anvil");
        assertThat(canaryTasks.finished).containsExactly("101=success");
        assertThat(canaryTasks.finishedOutputs.get(0)).containsEntry("state", "promoted");
        // the rollout ran as the run's child, under the id the rollout API looks it up by
        CanaryResult child = env.getWorkflowClient().newUntypedWorkflowStub("rollout-promote-run-rollout")
                .getResult(CanaryResult.class);
        assertThat(child.state()).isEqualTo("promoted");
        assertThat(parentOf(env, "rollout-promote-run-rollout")).isEqualTo("promote-run");
        assertThat(tasks.started).containsExactly("build"); // no RunTask activity for the canary
    }

    @Test
    void aPauseLongerThanTheTaskTimeoutThenResumeAndPromoteSucceeds(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow run = start(env, worker, holdsAtFirstStep(), "pause-run", holdingSpec());
        CanaryRolloutWorkflow control = runningRollout(env, "rollout-pause-run-rollout");

        control.pause(new RolloutControl("bob", "checking a dashboard"));
        env.sleep(Duration.ofHours(3)); // six times the task's execution timeout
        RolloutStatus paused = control.status();
        assertThat(paused.state()).isEqualTo("paused");
        assertThat(paused.pausedReason()).isEqualTo("paused by bob: checking a dashboard");
        assertThat(paused.weight()).isEqualTo(5);
        assertThat(statuses(run.state())).containsExactly("build=success", "rollout=running");
        assertThat(run.state().tasks().get(1).outputs()).containsEntry("rollout", "rollout-pause-run-rollout");

        assertThat(control.resume(new RolloutControl("bob", null)).state()).isEqualTo("running");
        control.promote(new RolloutControl("alice", "the dashboard is clean"));

        RunState state = WorkflowStub.fromTyped(run).getResult(RunState.class);
        assertThat(statuses(state)).containsExactly("build=success", "rollout=success");
        assertThat(state.tasks().get(1).outputs()).containsEntry("state", "promoted");
        assertThat(canaryTasks.finished).containsExactly("101=success");
        verify(runs).runFinished("pause-run", "success", null);
    }

    @Test
    void aRolledBackCanaryFailsTheTaskWithTheAnalysisReasonNotRetried(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout rollout = new FakeRollout(10_000, 0.05, 0);
        RunState state = WorkflowStub.fromTyped(start(env, worker, rollout, "rollback-run", Map.of("endpoint", "digits")))
                .getResult(RunState.class);

        assertThat(state.status()).isEqualTo("failed");
        assertThat(statuses(state)).containsExactly("build=success", "rollout=failed");
        String error = state.tasks().get(1).error();
        assertThat(error).startsWith("canary: rollout rollout-rollback-run-rollout rolled back by anvil: ")
                .contains("canary failed 25 of 500 requests (error rate 0.0500) at weight 5%; max_error_rate is 0.0100")
                .doesNotContainIgnoringCase("input");
        assertThat(rollout.finishes).containsExactly("rolled_back by anvil");
        assertThat(canaryTasks.prepared).containsExactly("rollout"); // retries: 2, yet a verdict is not retried
        assertThat(canaryTasks.finished).containsExactly("101=failed: " + error);
        assertThat(canaryTasks.finishedOutputs.get(0)).containsEntry("state", "rolled_back");
        verify(runs).runFinished("rollback-run", "failed", "rollout: " + error);
    }

    @Test
    void cancellingTheRunAbortsTheRolloutBeforeTheRunEnds(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout rollout = holdsAtFirstStep();
        PipelineWorkflow run = start(env, worker, rollout, "cancel-run", holdingSpec());
        runningRollout(env, "rollout-cancel-run-rollout");

        WorkflowStub.fromTyped(run).cancel();

        assertThatThrownBy(() -> WorkflowStub.fromTyped(run).getResult(RunState.class))
                .isInstanceOf(WorkflowFailedException.class);
        assertThat(rollout.finishes).containsExactly("aborted by pipeline cancel-run");
        assertThat(rollout.weights).containsExactly(5);
        WorkflowStub child = env.getWorkflowClient().newUntypedWorkflowStub("rollout-cancel-run-rollout");
        assertThatThrownBy(() -> child.getResult(CanaryResult.class)).isInstanceOf(WorkflowFailedException.class);
        assertThat(statusOf(env, "rollout-cancel-run-rollout"))
                .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED);
        // the attempt is ended by the run's cancellation (attempt 0: the open one), never as a success
        assertThat(tasks.recorded).containsExactly("rollout=failed");
        assertThat(canaryTasks.finished).isEmpty();
        verify(runs).runFinished("cancel-run", "cancelled", null);
    }

    @Test
    void aRefusedCanaryFailsAtOnceAndStartsNoRollout(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout rollout = new FakeRollout(10_000, 0, 0);
        Map<String, Object> with = Map.of("endpoint", "digits", "refuse",
                "candidate " + "ab".repeat(32) + " may not go to production: it has no signed attestation");
        RunState state = WorkflowStub.fromTyped(start(env, worker, rollout, "refused-run", with)).getResult(RunState.class);

        assertThat(statuses(state)).containsExactly("build=success", "rollout=failed");
        assertThat(state.tasks().get(1).error()).startsWith("canary: candidate ").contains("no signed attestation");
        assertThat(canaryTasks.prepared).containsExactly("rollout");
        assertThat(rollout.weights).isEmpty();
        assertThat(rollout.finishes).isEmpty();
    }

    /**
     * Too little traffic for a verdict (5 % of 1,000 requests is under min_requests), and inconclusive windows
     * extend the step without end: the rollout stays running at weight 5 until a person or a cancel ends it, however
     * far the test environment skips time between two calls.
     */
    private static FakeRollout holdsAtFirstStep() {
        return new FakeRollout(1_000, 0, 0);
    }

    private static Map<String, Object> holdingSpec() {
        return Map.of("endpoint", "digits", "max_extensions", 1_000_000);
    }

    /** The child rollout by its id, as the rollout API reaches it, once it has begun. */
    private static CanaryRolloutWorkflow runningRollout(TestWorkflowEnvironment env, String rolloutId) {
        CanaryRolloutWorkflow control = env.getWorkflowClient().newWorkflowStub(CanaryRolloutWorkflow.class, rolloutId);
        await("rollout " + rolloutId + " running").atMost(RunAssertions.ACTIVITY_WAIT).ignoreExceptions()
                .until(() -> control.status().state().equals("running"));
        return control;
    }

    private PipelineWorkflow start(TestWorkflowEnvironment env, Worker worker, FakeRollout rollout, String runId,
                                   Map<String, Object> canaryWith) {
        worker.registerActivitiesImplementations(tasks, runs, canaryTasks, rollout);
        env.start();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("model", "m.onnx");
        List<PlannedTask> planned = List.of(
                new PlannedTask("build", "noop", List.of(), "all_success", 0, Duration.ofSeconds(5),
                        Duration.ofMinutes(5), worker.getTaskQueue(), Map.of(), false),
                new PlannedTask("rollout", "canary", List.of("build"), "all_success", 2, Duration.ofSeconds(5),
                        Duration.ofMinutes(30), worker.getTaskQueue(), canaryWith, false));
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(worker.getTaskQueue()).build());
        WorkflowClient.start(wf::run, new PipelinePlan("canary", 1, params, planned, 4, "submitter"));
        return wf;
    }

    private static String parentOf(TestWorkflowEnvironment env, String workflowId) {
        return describe(env, workflowId).getWorkflowExecutionInfo().getParentExecution().getWorkflowId();
    }

    private static WorkflowExecutionStatus statusOf(TestWorkflowEnvironment env, String workflowId) {
        return describe(env, workflowId).getWorkflowExecutionInfo().getStatus();
    }

    private static io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse describe(
            TestWorkflowEnvironment env, String workflowId) {
        return env.getWorkflowClient().getWorkflowServiceStubs().blockingStub().describeWorkflowExecution(
                DescribeWorkflowExecutionRequest.newBuilder().setNamespace(env.getNamespace())
                        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId)).build());
    }
}
