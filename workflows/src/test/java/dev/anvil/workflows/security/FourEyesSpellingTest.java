package dev.anvil.workflows.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.approval.ApprovalActivities;
import dev.anvil.workflows.approval.ApprovalDecision;
import dev.anvil.workflows.approval.ApprovalRequest;
import dev.anvil.workflows.approval.Principals;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.PipelineWorkflowImpl;
import dev.anvil.workflows.pipeline.PlannedTask;
import dev.anvil.workflows.pipeline.TaskActivities;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The workflow's validator is the authority on decisions: the requester spelt another way
 * ("ALICE", " alice", full-width) is still the requester, and one reviewer spelt two ways counts once.
 */
class FourEyesSpellingTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private static final List<String> REVIEWER = List.of("reviewer");

    private final ApprovalActivities approvals = mock(ApprovalActivities.class, withSettings().withoutAnnotations());

    private PipelineWorkflow start(TestWorkflowEnvironment env, Worker worker, String runId, int required) {
        when(approvals.recordDecision(anyString(), anyString(), anyString(), any())).thenReturn("pending");
        worker.registerActivitiesImplementations(approvals,
                mock(RunStateActivities.class, withSettings().withoutAnnotations()),
                mock(TaskActivities.class, withSettings().withoutAnnotations()));
        env.start();
        PlannedTask approve = new PlannedTask("approve", "approval", List.of(), "all_success", 0, Duration.ofSeconds(1),
                Duration.ofMinutes(5), worker.getTaskQueue(), Map.of("required_approvals", required), false);
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(worker.getTaskQueue()).build());
        WorkflowClient.start(wf::run, new PipelinePlan("p", 1, Map.of(), List.of(approve), 4, "Alice"));
        await("the approval opened").atMost(Duration.ofSeconds(20))
                .until(() -> "running".equals(wf.state().tasks().get(0).status()));
        return wf;
    }

    private static String refusal(Runnable update) {
        try {
            update.run();
        } catch (WorkflowUpdateException e) {
            return ((ApplicationFailure) e.getCause()).getOriginalMessage();
        }
        throw new AssertionError("the update was accepted");
    }

    @Test
    void theRequesterSpeltAnotherWayMayNotApprove(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-spelling", 1);

        for (String alias : List.of("alice", "ALICE", " alice ", "ａｌｉｃｅ", "Alice\u3000")) {
            assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", alias, REVIEWER, "approve", null))))
                    .as(alias).contains("four-eyes rule");
        }
        assertThat(wf.state().tasks().get(0).status()).isEqualTo("running");
    }

    @Test
    void oneReviewerSpeltTwoWaysCountsOnce(TestWorkflowEnvironment env, Worker worker) {
        PipelineWorkflow wf = start(env, worker, "run-distinct", 2);

        wf.decide(new ApprovalDecision("approve", "Rita", REVIEWER, "approve", null));

        assertThat(refusal(() -> wf.decide(new ApprovalDecision("approve", "rita ", REVIEWER, "approve", null))))
                .contains("already decided");
    }

    @Test
    void theNormaliserTrimsFoldsAndLowerCases() {
        assertThat(Principals.normalize(" Ａlice\u3000")).isEqualTo("alice");
        assertThat(Principals.same("Alice", "alice ")).isTrue();
        assertThat(Principals.same("alice", "alicia")).isFalse();
        assertThat(Principals.same(null, null)).isFalse();
    }
}
