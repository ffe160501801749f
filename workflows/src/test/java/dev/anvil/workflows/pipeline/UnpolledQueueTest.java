package dev.anvil.workflows.pipeline;

import static dev.anvil.workflows.pipeline.RunAssertions.statuses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.withSettings;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.runs.RunStateActivities;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A task on a queue nobody polls fails after the plan's schedule-to-start timeout, saying how to fix it. */
@org.junit.jupiter.api.Timeout(120)
class UnpolledQueueTest {

    @RegisterExtension
    static final TestWorkflowExtension testWorkflow = TestWorkflowExtension.newBuilder()
            .registerWorkflowImplementationTypes(PipelineWorkflowImpl.class)
            .setDoNotStart(true)
            .build();

    private final FakeTasks tasks = new FakeTasks();
    private final RunStateActivities runs = mock(RunStateActivities.class, withSettings().withoutAnnotations());

    @Test
    void aTaskOnAQueueNobodyPollsFailsNamingTheQueueAndHowToStartAWorker(TestWorkflowEnvironment env, Worker worker) {
        worker.registerActivitiesImplementations(tasks, runs);
        env.start();
        PipelinePlan plan = new PipelinePlan("p", 1, Map.of(), List.of(
                task("cpu", List.of(), worker.getTaskQueue()),
                // nothing in this test polls anvil-gpu, as on a cluster without GPU workers
                task("trt", List.of("cpu"), TaskQueues.GPU),
                task("after", List.of("trt"), worker.getTaskQueue())), 4, "tester")
                .withScheduleToStartTimeout(Duration.ofSeconds(3));
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId("unpolled").setTaskQueue(worker.getTaskQueue()).build());
        WorkflowClient.start(wf::run, plan);

        // a real 3 s wait: the test server does not skip time to a schedule-to-start timeout
        RunState state = io.temporal.client.WorkflowStub.fromTyped(wf).getResult(RunState.class);

        assertThat(state.status()).isEqualTo("failed");
        assertThat(statuses(state)).containsExactly("cpu=success", "trt=failed", "after=upstream_failed");
        String error = state.tasks().get(1).error();
        assertThat(error).contains("task queue 'anvil-gpu'", "within 3s", "schedule-to-start",
                "ANVIL_WORKER_QUEUES=anvil-gpu", "java -jar", "anvil-worker-gpu");
        // the timeout is not retried: the attempt never started
        assertThat(tasks.attempts.get("trt")).isNull();
    }

    @Test
    void aTensorrtCompileWithoutAGpuWorkerFailsWithTheUnpolledQueueMessage(TestWorkflowEnvironment env, Worker worker)
            throws Exception {
        worker.registerActivitiesImplementations(tasks, runs);
        env.start();
        // planned from a spec as the API plans it: the compile descriptor routes target tensorrt to anvil-gpu, where
        // nothing polls (no GPU, or TensorRT failed to load and the worker left the queue out)
        PipelineSpec spec = SpecLoader.load("""
                pipeline: trt
                params: {model: m, evaluation: e}
                tasks:
                  trt: {operator: compile, with: {model: "${params.model}", target: tensorrt,
                                                  dataset: "${params.evaluation}"}}
                """, OperatorRegistry.builtIns(), java.util.Set.of());
        PipelinePlan plan = PlanBuilder.plan(spec, 1, OperatorRegistry.builtIns(), Map.of(), "tester")
                .withScheduleToStartTimeout(Duration.ofSeconds(2));
        assertThat(plan.tasks().get(0).queue()).isEqualTo(TaskQueues.GPU);
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId("unpolled-trt").setTaskQueue(worker.getTaskQueue()).build());
        WorkflowClient.start(wf::run, plan);

        RunState state = io.temporal.client.WorkflowStub.fromTyped(wf).getResult(RunState.class);

        assertThat(state.status()).isEqualTo("failed");
        assertThat(state.tasks().get(0).error()).isEqualTo(TaskQueues.unpolledMessage(TaskQueues.GPU,
                Duration.ofSeconds(2)));
        assertThat(tasks.attempts.get("trt")).isNull();
    }

    @Test
    void aPlanWithoutATimeoutSchedulesTasksWithNone(TestWorkflowEnvironment env, Worker worker) {
        worker.registerActivitiesImplementations(tasks, runs);
        env.start();
        PipelineWorkflow wf = env.getWorkflowClient().newWorkflowStub(PipelineWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId("untimed").setTaskQueue(worker.getTaskQueue()).build());
        RunState state = wf.run(new PipelinePlan("p", 1, Map.of(), List.of(task("a", List.of(), worker.getTaskQueue())),
                4, "tester"));
        assertThat(state.status()).isEqualTo("success");
        var scheduled = env.getWorkflowClient().fetchHistory("untimed").getEvents().stream()
                .filter(e -> e.hasActivityTaskScheduledEventAttributes())
                .map(e -> e.getActivityTaskScheduledEventAttributes())
                .filter(a -> a.getActivityType().getName().equals("RunTask"))
                .toList();
        assertThat(scheduled).hasSize(1);
        // unset, the server fills in its own (years), not a limit of ours
        assertThat(scheduled.get(0).getScheduleToStartTimeout().getSeconds()).isGreaterThan(Duration.ofDays(1).toSeconds());
    }

    private static PlannedTask task(String id, List<String> upstream, String queue) {
        return new PlannedTask(id, "noop", upstream, "all_success", 3, Duration.ofSeconds(1), Duration.ofMinutes(5),
                queue, Map.of(), true);
    }
}
