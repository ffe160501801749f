package dev.anvil.api.pipelines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.Ports;
import dev.anvil.devstack.TemporalDevServer;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Detection against a real Temporal dev server (the local stack's), which has no Schedules API: auto picks the
 * durable timers, temporal stops start-up with the setting named. No reachable service here has Schedules, so
 * the Temporal Schedules path itself is covered only by the translation tests (TemporalSchedulePlanTest).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ScheduleDetectionTest {
    private static TemporalDevServer server;
    private static WorkflowServiceStubs stubs;

    @BeforeAll
    static void startTemporal() {
        server = TemporalDevServer.start("127.0.0.1", Ports.ephemeral());
        stubs = WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget(server.target()).build());
    }

    @AfterAll
    static void stopTemporal() {
        stubs.shutdownNow();
        server.close();
    }

    @Test
    void theDevServerHasNoSchedulesSoAutoChoosesTimers() {
        ScheduleSupportProbe.Result probe = ScheduleSupportProbe.probe(stubs, "default", server.target());

        assertThat(probe.support()).isEqualTo(ScheduleSupportProbe.Support.UNAVAILABLE);
        assertThat(probe.detail()).contains("UNIMPLEMENTED").contains(server.target());
        ScheduleBackendChoice choice = ScheduleBackendChoice.choose("auto", probe);
        assertThat(choice.backend()).isEqualTo("timer");
        assertThat(Schedules.create(choice.backend(), probe.support(), WorkflowClient.newInstance(stubs), stubs, "default"))
                .isInstanceOf(TimerScheduleBackend.class);
    }

    @Test
    void forcedTemporalOnTheDevServerFailsNamingTheSetting() {
        ScheduleSupportProbe.Result probe = ScheduleSupportProbe.probe(stubs, "default", server.target());

        assertThatThrownBy(() -> ScheduleBackendChoice.choose("temporal", probe))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ANVIL_SCHEDULES_BACKEND")
                .hasMessageContaining("no Schedules API");
    }

    @Test
    void aServiceWithSchedulesGetsTheTemporalBackend() {
        // what a cluster answers (NOT_FOUND for the probe's schedule id); the backend is only built, never called
        ScheduleSupportProbe.Result cluster = ScheduleSupportProbe.classify(io.grpc.Status.NOT_FOUND, "cluster:7233");
        ScheduleBackendChoice choice = ScheduleBackendChoice.choose("auto", cluster);
        assertThat(Schedules.create(choice.backend(), cluster.support(), WorkflowClient.newInstance(stubs), stubs,
                "default"))
                .isInstanceOf(TemporalScheduleBackend.class);
    }

    @Test
    void timersOnAServiceWithSchedulesDeleteTheScheduleAnEarlierProcessLeft() throws Exception {
        // a cluster that has Schedules, where an earlier process (auto or temporal) made 'leftover's; this one
        // is set to timer. The schedule client is a stand-in (no reachable service has Schedules); the timer
        // workflow runs on the real dev server.
        LeftoverSchedules cluster = new LeftoverSchedules(java.util.Set.of("pipeline-leftover"));
        ScheduleBackend timer = new TimerScheduleBackend(WorkflowClient.newInstance(stubs), cluster.client());
        dev.anvil.workflows.pipeline.spec.PipelineSpec spec = dev.anvil.workflows.pipeline.spec.SpecLoader.load("""
                pipeline: leftover
                schedule: "0 3 * * *"
                tasks:
                  a: {operator: noop}
                """, dev.anvil.workflows.pipeline.spec.OperatorRegistry.builtIns(), java.util.Set.of());

        timer.ensure(spec, false);
        timer.ensure(spec, false); // again, as at the next start-up: nothing left to delete, nothing fails

        assertThat(cluster.deleted).containsExactly("pipeline-leftover");
        assertThat(stubs.blockingStub().describeWorkflowExecution(
                io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default")
                        .setExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder().setWorkflowId(
                                dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflow.workflowId("leftover")))
                        .build()).getWorkflowExecutionInfo().getStatus())
                .as("the timers fire the schedule now")
                .isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
        assertThat(Schedules.create("timer", ScheduleSupportProbe.Support.AVAILABLE, WorkflowClient.newInstance(stubs),
                stubs, "default")).isInstanceOf(TimerScheduleBackend.class);
    }

    /** A schedule client whose service holds {@code existing} schedules; delete removes one, NOT_FOUND after. */
    private static final class LeftoverSchedules {
        final java.util.Set<String> existing;
        final java.util.List<String> deleted = new java.util.ArrayList<>();

        LeftoverSchedules(java.util.Set<String> existing) {
            this.existing = new java.util.HashSet<>(existing);
        }

        io.temporal.client.schedules.ScheduleClient client() {
            return proxy(io.temporal.client.schedules.ScheduleClient.class, (method, args) -> {
                if (!method.equals("getHandle")) {
                    throw new UnsupportedOperationException(method);
                }
                String id = (String) args[0];
                return proxy(io.temporal.client.schedules.ScheduleHandle.class, (handleMethod, none) -> {
                    if (!handleMethod.equals("delete")) {
                        throw new UnsupportedOperationException(handleMethod);
                    }
                    if (!existing.remove(id)) {
                        throw new io.temporal.client.schedules.ScheduleException(
                                io.grpc.Status.NOT_FOUND.withDescription("schedule not found").asRuntimeException());
                    }
                    deleted.add(id);
                    return null;
                });
            });
        }

        private static <T> T proxy(Class<T> type, java.util.function.BiFunction<String, Object[], Object> calls) {
            return type.cast(java.lang.reflect.Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                    (self, method, args) -> calls.apply(method.getName(), args)));
        }
    }
}
