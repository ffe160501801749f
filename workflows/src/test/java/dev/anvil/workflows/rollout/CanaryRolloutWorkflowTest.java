package dev.anvil.workflows.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class CanaryRolloutWorkflowTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(CanaryRolloutWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private static final Duration INTERVAL = Duration.ofMinutes(10);

    private static CanaryRequest request(int maxExtensions) {
        return new CanaryRequest("ro-1", "digits", "ab".repeat(32), List.of(5, 25, 50, 100), INTERVAL.toSeconds(),
                200, 0.01, 1.2, maxExtensions, null, "pipeline");
    }

    @Test
    void aGoodCandidateWalksEveryStepAndIsPromoted(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout fake = new FakeRollout(10_000, 0, 0);
        CanaryResult result = result(start(env, worker, fake, request(2)));

        assertThat(result.state()).isEqualTo("promoted");
        assertThat(result.candidateVersion()).isEqualTo(FakeRollout.CANDIDATE);
        assertThat(fake.weights).containsExactly(5, 25, 50, 100);
        assertThat(result.analyses()).extracting(Analysis::verdict).containsOnly("pass").hasSize(4);
        assertThat(result.analyses()).extracting(Analysis::weight).containsExactly(5, 25, 50, 100);
        // each window is numbered and timed by the workflow, so its record is written once however often it is handed on
        assertThat(result.analyses()).extracting(Analysis::window).containsExactly(1, 2, 3, 4);
        assertThat(result.analyses()).extracting(Analysis::analysedAtMillis).isSorted()
                .allSatisfy(at -> assertThat(at).isPositive()).doesNotHaveDuplicates();
        assertThat(fake.finishes).containsExactly("promoted by anvil");
    }

    @Test
    void aCandidateThatFailsRequestsIsRolledBackAtTheFirstStep(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout fake = new FakeRollout(10_000, 0.05, 0);
        CanaryResult result = result(start(env, worker, fake, request(2)));

        assertThat(result.state()).isEqualTo("rolled_back");
        assertThat(fake.weights).containsExactly(5);
        assertThat(result.analyses()).singleElement().satisfies(a -> {
            assertThat(a.verdict()).isEqualTo("fail");
            assertThat(a.canaryErrors()).isEqualTo(25);
        });
        assertThat(result.reason()).contains("canary failed 25 of 500 requests").contains("max_error_rate is 0.0100");
        assertThat(fake.finishes).containsExactly("rolled_back by anvil");
    }

    @Test
    void aMuchSlowerCandidateIsRolledBackAtTheFirstStep(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout fake = new FakeRollout(10_000, 0, 6);
        CanaryResult result = result(start(env, worker, fake, request(2)));

        assertThat(result.state()).isEqualTo("rolled_back");
        assertThat(fake.weights).containsExactly(5);
        assertThat(result.reason()).contains("p95 latency").contains("max_p95_latency_ratio is 1.20");
        assertThat(result.analyses().get(0).p95LatencyRatio()).isGreaterThan(2.5);
    }

    @Test
    void tooLittleTrafficHoldsThenPausesForAPersonWhoPromotes(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout fake = new FakeRollout(1_000, 0, 0); // 5 % of 1000 = 50 canary requests < 200
        CanaryRolloutWorkflow rollout = start(env, worker, fake, request(2));

        env.sleep(INTERVAL.multipliedBy(5));
        RolloutStatus status = rollout.status();
        assertThat(status.state()).isEqualTo("paused");
        assertThat(status.weight()).isEqualTo(5);
        assertThat(status.analyses()).extracting(Analysis::verdict).containsExactly("inconclusive", "inconclusive",
                "inconclusive");
        assertThat(status.pausedReason()).contains("inconclusive after 3 windows")
                .contains("fewer than min_requests 200");
        assertThat(fake.weights).containsExactly(5); // held, never stepped up on no evidence

        rollout.promote(new RolloutControl("alice", "traffic is low at night; the offline evaluation is enough"));
        CanaryResult result = result(rollout);
        assertThat(result.state()).isEqualTo("promoted");
        assertThat(result.decidedBy()).isEqualTo("alice");
        assertThat(fake.finishes).containsExactly("promoted by alice");
    }

    @Test
    void aPersonCanPauseResumeAndAbort(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout fake = new FakeRollout(10_000, 0, 0);
        CanaryRolloutWorkflow rollout = start(env, worker, fake, request(2));
        env.sleep(INTERVAL.multipliedBy(2).plusMinutes(5));
        assertThat(rollout.status().weight()).isEqualTo(50);

        assertThat(rollout.pause(new RolloutControl("bob", "looking at a dashboard")).pausedReason())
                .isEqualTo("paused by bob: looking at a dashboard");
        env.sleep(INTERVAL.multipliedBy(6));
        assertThat(rollout.status().weight()).isEqualTo(50); // a paused rollout does not step on
        RolloutStatus resumed = rollout.resume(new RolloutControl("bob", null));
        assertThat(resumed.state()).isEqualTo("running");
        assertThat(resumed.pausedReason()).as("the answer is the state after the resume").isNull();
        rollout.abort(new RolloutControl("bob", "dashboard shows odd answers for class 7"));

        CanaryResult result = result(rollout);
        assertThat(result.state()).isEqualTo("aborted");
        assertThat(result.reason()).isEqualTo("dashboard shows odd answers for class 7");
        assertThat(fake.finishes).containsExactly("aborted by bob");
        assertThat(fake.weights).containsExactly(5, 25, 50);
        assertThat(fake.states).contains("paused");
    }

    @Test
    void validatorsRefuseTransitionsThatMakeNoSense(TestWorkflowEnvironment env, Worker worker) {
        FakeRollout fake = new FakeRollout(10_000, 0, 0);
        CanaryRolloutWorkflow rollout = start(env, worker, fake, request(2));
        env.sleep(Duration.ofMinutes(1));

        assertThatThrownBy(() -> rollout.resume(new RolloutControl("carol", null)))
                .isInstanceOf(WorkflowUpdateException.class)
                .rootCause().hasMessageContaining("only a paused rollout can be resumed; this one is running");
        assertThatThrownBy(() -> rollout.promote(new RolloutControl(" ", null)))
                .isInstanceOf(WorkflowUpdateException.class)
                .rootCause().hasMessageContaining("say who is asking: actor is required");
        rollout.pause(new RolloutControl("carol", null));
        assertThatThrownBy(() -> rollout.pause(new RolloutControl("carol", null)))
                .isInstanceOf(WorkflowUpdateException.class)
                .rootCause().hasMessageContaining("only a running rollout can be paused; this one is paused");
        rollout.abort(new RolloutControl("carol", null));
        CanaryResult result = result(rollout);
        assertThat(result.state()).isEqualTo("aborted");
        assertThat(result.reason()).isEqualTo("aborted by carol");
    }

    @Test
    void aCancelledRolloutAbortsPuttingTrafficBackOnStable(TestWorkflowEnvironment env, Worker worker) {
        // too little traffic for a verdict and no end to the extensions: it holds at 5 % however far time skips
        FakeRollout fake = new FakeRollout(1_000, 0, 0);
        CanaryRolloutWorkflow rollout = start(env, worker, fake, request(1_000_000));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                .until(() -> rollout.status().state().equals("running"));

        WorkflowStub.fromTyped(rollout).cancel();

        assertThatThrownBy(() -> result(rollout)).isInstanceOf(io.temporal.client.WorkflowFailedException.class)
                .hasCauseInstanceOf(io.temporal.failure.CanceledFailure.class);
        assertThat(fake.finishes).containsExactly("aborted by anvil");
        assertThat(fake.weights).containsExactly(5);
    }

    private static CanaryResult result(CanaryRolloutWorkflow rollout) {
        return WorkflowStub.fromTyped(rollout).getResult(CanaryResult.class);
    }

    private static CanaryRolloutWorkflow start(TestWorkflowEnvironment env, Worker worker, FakeRollout fake, CanaryRequest request) {
        worker.registerActivitiesImplementations(fake);
        env.start();
        CanaryRolloutWorkflow stub = env.getWorkflowClient().newWorkflowStub(CanaryRolloutWorkflow.class,
                WorkflowOptions.newBuilder().setTaskQueue(worker.getTaskQueue()).setWorkflowId(request.rolloutId()).build());
        WorkflowClient.start(stub::run, request);
        return stub;
    }
}
