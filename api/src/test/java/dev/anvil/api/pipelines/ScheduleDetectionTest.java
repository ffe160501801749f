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
        assertThat(Schedules.create(choice.backend(), WorkflowClient.newInstance(stubs), stubs, "default"))
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
        ScheduleBackendChoice choice = ScheduleBackendChoice.choose("auto",
                ScheduleSupportProbe.classify(io.grpc.Status.NOT_FOUND, "cluster:7233"));
        assertThat(Schedules.create(choice.backend(), WorkflowClient.newInstance(stubs), stubs, "default"))
                .isInstanceOf(TemporalScheduleBackend.class);
    }
}
