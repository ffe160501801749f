package dev.anvil.workflows.pipeline;

import static dev.anvil.workflows.pipeline.RunAssertions.ACTIVITY_WAIT;
import static dev.anvil.workflows.pipeline.RunAssertions.statuses;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.runs.RunStateActivities;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PipelineWorkflowTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private final FakeTasks tasks = new FakeTasks();
    private final RunStateActivities runs = mock(RunStateActivities.class, withSettings().withoutAnnotations());

    @Test
    void aChainPassesOutputsDownstream(TestWorkflowEnvironment env, Worker worker) {
        RunState state = run(env, worker, "chain", List.of(
                task("a", List.of(), "all_success", 0, Map.of("p", "${params.model}")),
                task("b", List.of("a"), "all_success", 0, Map.of("in", "${tasks.a.outputs.value}", "run", "run ${run.id}")),
                task("c", List.of("b"), "all_success", 0, Map.of())));

        assertThat(state.status()).isEqualTo("success");
        assertThat(statuses(state)).containsExactly("a=success", "b=success", "c=success");
        assertThat(tasks.receivedWith.get("a")).containsEntry("p", "m.onnx");
        assertThat(tasks.receivedWith.get("b")).containsEntry("in", "a-out").containsEntry("run", "run chain");
        verify(runs).runStarted("chain");
        verify(runs).runFinished("chain", "success", null);
    }

    @Test
    void triggerRulesDecideWhatRunsAfterAFailure(TestWorkflowEnvironment env, Worker worker) {
        tasks.invalidInput.put("bad", "input x is not a model");
        RunState state = run(env, worker, "rules", List.of(
                task("ok", List.of(), "all_success", 0, Map.of()),
                task("bad", List.of(), "all_success", 0, Map.of()),
                task("all_success", List.of("ok", "bad"), "all_success", 0, Map.of()),
                task("all_done", List.of("ok", "bad"), "all_done", 0, Map.of()),
                task("one_failed", List.of("ok", "bad"), "one_failed", 0, Map.of()),
                task("one_success", List.of("ok", "bad"), "one_success", 0, Map.of()),
                task("all_failed", List.of("bad"), "all_failed", 0, Map.of()),
                task("none_failed", List.of("ok", "bad"), "none_failed", 0, Map.of()),
                task("after_skip", List.of("all_failed_skipped"), "all_success", 0, Map.of()),
                task("all_failed_skipped", List.of("ok"), "all_failed", 0, Map.of()),
                task("none_skipped", List.of("ok", "all_failed_skipped"), "none_skipped", 0, Map.of()),
                task("none_failed_with_skip", List.of("ok", "all_failed_skipped"), "none_failed", 0, Map.of())));

        assertThat(statuses(state)).containsExactly(
                "ok=success", "bad=failed", "all_success=upstream_failed", "all_done=success", "one_failed=success",
                "one_success=success", "all_failed=success", "none_failed=upstream_failed", "after_skip=skipped",
                "all_failed_skipped=skipped", "none_skipped=skipped", "none_failed_with_skip=success");
        assertThat(state.tasks().get(1).error()).isEqualTo("input x is not a model");
        // bad input is not retried
        assertThat(tasks.attempts.get("bad").get()).isEqualTo(1);
        assertThat(tasks.recorded).contains("all_success=upstream_failed", "after_skip=skipped");
        // leaves all_success and none_failed could not run because of a failure: the run failed
        assertThat(state.status()).isEqualTo("failed");
    }

    @Test
    void retriesThenSuccess(TestWorkflowEnvironment env, Worker worker) {
        tasks.failuresBeforeSuccess.put("flaky", 2);
        RunState state = run(env, worker, "retry-ok", List.of(task("flaky", List.of(), "all_success", 2, Map.of())));
        assertThat(state.status()).isEqualTo("success");
        assertThat(tasks.attempts.get("flaky").get()).isEqualTo(3);
        assertThat(state.tasks().get(0).outputs()).containsEntry("attempt", 3);
    }

    @Test
    void retriesExhaustedFailTheTaskAndTheRun(TestWorkflowEnvironment env, Worker worker) {
        tasks.failuresBeforeSuccess.put("flaky", 5);
        RunState state = run(env, worker, "retry-out", List.of(
                task("flaky", List.of(), "all_success", 1, Map.of()),
                task("next", List.of("flaky"), "all_success", 0, Map.of())));
        assertThat(state.status()).isEqualTo("failed");
        assertThat(tasks.attempts.get("flaky").get()).isEqualTo(2);
        assertThat(statuses(state)).containsExactly("flaky=failed", "next=upstream_failed");
        assertThat(state.tasks().get(0).error()).isEqualTo("attempt 2 of flaky failed");
        verify(runs).runFinished("retry-out", "failed", "flaky: attempt 2 of flaky failed");
    }

    @Test
    void independentBranchesRunInParallel(TestWorkflowEnvironment env, Worker worker) {
        CountDownLatch release = new CountDownLatch(1);
        tasks.blockUntil.put("left", release);
        worker.registerActivitiesImplementations(tasks, runs);
        env.start();
        WorkflowStub stub = start(env, worker, "parallel", List.of(
                task("left", List.of(), "all_success", 0, Map.of()),
                task("right", List.of(), "all_success", 0, Map.of()),
                task("join", List.of("left", "right"), "all_success", 0, Map.of())));
        // right finishes while left is still running: they were started together
        await("both branches started").atMost(ACTIVITY_WAIT)
                .until(() -> tasks.attempts.containsKey("right") && tasks.attempts.containsKey("left"));
        assertThat(tasks.started).doesNotContain("join");
        release.countDown();
        RunState state = stub.getResult(RunState.class);
        assertThat(statuses(state)).containsExactly("left=success", "right=success", "join=success");
    }

    @Test
    void cancellingARunStopsRunningTasksAndMarksTheRest(TestWorkflowEnvironment env, Worker worker) {
        tasks.blockUntil.put("long", new CountDownLatch(1));
        worker.registerActivitiesImplementations(tasks, runs);
        env.start();
        WorkflowStub stub = start(env, worker, "cancel-me", List.of(
                task("long", List.of(), "all_success", 0, Map.of()),
                task("after", List.of("long"), "all_success", 0, Map.of())));
        await("long started").atMost(ACTIVITY_WAIT).until(() -> tasks.started.contains("long"));
        RunState live = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class, "cancel-me").state();
        assertThat(statuses(live)).containsExactly("long=running", "after=queued");

        stub.cancel();

        assertThatThrownBy(() -> stub.getResult(RunState.class)).isInstanceOf(WorkflowFailedException.class);
        assertThat(tasks.recorded).containsExactlyInAnyOrder("long=failed", "after=skipped");
        verify(runs).runFinished("cancel-me", "cancelled", null);
        assertThat(tasks.started).doesNotContain("after");
    }

    @Test
    void aRetriedRunKeepsSuccessfulTasksAndRerunsTheRest(TestWorkflowEnvironment env, Worker worker) {
        tasks.invalidInput.put("b", "model missing");
        List<PlannedTask> planned = List.of(
                task("a", List.of(), "all_success", 0, Map.of()),
                task("b", List.of("a"), "all_success", 0, Map.of("in", "${tasks.a.outputs.value}")),
                task("c", List.of("b"), "all_success", 0, Map.of()));
        RunState first = run(env, worker, "retry-run", planned);
        assertThat(statuses(first)).containsExactly("a=success", "b=failed", "c=upstream_failed");

        // the input is fixed; the retry is a new execution of the same run id, carrying a over
        tasks.invalidInput.remove("b");
        tasks.started.clear();
        PipelinePlan retry = plan(worker, planned).asRetry(Map.of("a", first.tasks().get(0)), Map.of("a", 1, "b", 1, "c", 1));
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId("retry-run").setTaskQueue(worker.getTaskQueue()).build());
        RunState second = wf.run(retry);

        assertThat(statuses(second)).containsExactly("a=success", "b=success", "c=success");
        assertThat(tasks.started).containsExactly("b", "c");
        assertThat(tasks.receivedWith.get("b")).containsEntry("in", "a-out");
        assertThat(tasks.previousAttempts).containsEntry("b", 1);
    }

    @Test
    void fiveHundredTasksRunWithinHistoryLimits(TestWorkflowEnvironment env, Worker worker) {
        List<PlannedTask> wide = new ArrayList<>();
        for (int layer = 0; layer < 10; layer++) {
            for (int i = 0; i < 50; i++) {
                List<String> up = layer == 0 ? List.of() : List.of("t" + (layer - 1) + "_" + i);
                wide.add(task("t" + layer + "_" + i, up, "all_success", 0, Map.of()));
            }
        }
        RunState state = run(env, worker, "wide", wide);
        assertThat(state.status()).isEqualTo("success");
        assertThat(state.tasks()).hasSize(500).allMatch(t -> t.status().equals("success"));
        long events = env.getWorkflowClient().fetchHistory("wide").getHistory().getEventsCount();
        assertThat(events).isLessThan(10_000);
    }

    @Test
    void eachTaskGetsItsOperatorsHeartbeatTimeout(TestWorkflowEnvironment env, Worker worker) {
        // a plan made before plans carried the heartbeat timeout: the built-in operator's applies
        PlannedTask quantize = new PlannedTask("q", "quantize", List.of(), "all_success", 0, Duration.ofSeconds(5),
                Duration.ofHours(2), "anvil-cpu", Map.of(), true);
        // a plan made from the registry: the descriptor's, whatever the operator's name
        PlannedTask planned = new PlannedTask("p", "noop", List.of("q"), "all_success", 0, Duration.ofSeconds(5),
                Duration.ofHours(2), "anvil-cpu", Map.of(), true, Duration.ofSeconds(7));
        RunState state = run(env, worker, "heartbeats", List.of(quantize, planned,
                task("n", List.of("p"), "all_success", 0, Map.of())));
        assertThat(state.status()).isEqualTo("success");
        Map<String, Duration> timeouts = new java.util.LinkedHashMap<>();
        for (io.temporal.api.history.v1.HistoryEvent e : env.getWorkflowClient().fetchHistory("heartbeats").getEvents()) {
            if (e.hasActivityTaskScheduledEventAttributes()) {
                var a = e.getActivityTaskScheduledEventAttributes();
                if (a.getActivityType().getName().equals("RunTask")) {
                    timeouts.put(a.getActivityId(), Duration.ofSeconds(a.getHeartbeatTimeout().getSeconds()));
                }
            }
        }
        assertThat(timeouts.values()).containsExactly(
                dev.anvil.workflows.pipeline.spec.BuiltInOperators.WORKER_HEARTBEAT, Duration.ofSeconds(7), Duration.ZERO);
    }

    private RunState run(TestWorkflowEnvironment env, Worker worker, String runId, List<PlannedTask> planned) {
        worker.registerActivitiesImplementations(tasks, runs);
        env.start();
        return start(env, worker, runId, planned).getResult(RunState.class);
    }

    private static WorkflowStub start(TestWorkflowEnvironment env, Worker worker, String runId, List<PlannedTask> planned) {
        WorkflowClient client = env.getWorkflowClient();
        PipelineWorkflow wf = client.newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(runId).setTaskQueue(worker.getTaskQueue()).build());
        WorkflowClient.start(wf::run, plan(worker, planned));
        return WorkflowStub.fromTyped(wf);
    }

    private static PipelinePlan plan(Worker worker, List<PlannedTask> planned) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("model", "m.onnx");
        // the test worker polls a queue of its own
        List<PlannedTask> onWorkerQueue = planned.stream().map(t -> new PlannedTask(t.id(), t.operator(), t.upstream(),
                t.triggerRule(), t.retries(), t.retryDelay(), t.executionTimeout(), worker.getTaskQueue(), t.with(),
                t.cache(), t.heartbeatTimeout())).toList();
        return new PipelinePlan("p", 1, params, onWorkerQueue, 16, "tester");
    }

    private PlannedTask task(String id, List<String> upstream, String rule, int retries, Map<String, Object> with) {
        return new PlannedTask(id, "noop", upstream, rule, retries, Duration.ofSeconds(5), Duration.ofMinutes(5),
                "anvil-cpu", with, true);
    }
}
