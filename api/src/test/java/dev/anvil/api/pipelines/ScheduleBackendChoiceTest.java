package dev.anvil.api.pipelines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.api.pipelines.ScheduleSupportProbe.Result;
import dev.anvil.api.pipelines.ScheduleSupportProbe.Support;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** The setting anvil.schedules.backend against what the Temporal service said. */
class ScheduleBackendChoiceTest {
    private static final Result HAS = new Result(Support.AVAILABLE, "has them");
    private static final Result LACKS = new Result(Support.UNAVAILABLE, "the service at t has no Schedules API");
    private static final Result UNKNOWN = new Result(Support.UNKNOWN, "could not ask (UNAVAILABLE)");

    @Test
    void autoTakesTemporalSchedulesWhereTheServiceHasThemAndTimersElsewhere() {
        assertThat(ScheduleBackendChoice.choose("auto", HAS).backend()).isEqualTo("temporal");
        assertThat(ScheduleBackendChoice.choose("auto", LACKS).backend()).isEqualTo("timer");
        ScheduleBackendChoice unreachable = ScheduleBackendChoice.choose("auto", UNKNOWN);
        assertThat(unreachable.backend()).isEqualTo("timer");
        assertThat(unreachable.why()).contains("could not ask").contains("ANVIL_SCHEDULES_BACKEND");
        assertThat(ScheduleBackendChoice.choose(null, HAS).backend()).isEqualTo("temporal");
    }

    @Test
    void timerIsTimerWhateverTheServiceHas() {
        assertThat(ScheduleBackendChoice.choose("timer", HAS).backend()).isEqualTo("timer");
        assertThat(ScheduleBackendChoice.choose(" Timer ", LACKS).backend()).isEqualTo("timer");
    }

    @Test
    void temporalOnAServiceWithoutSchedulesStopsStartUpNamingTheSetting() {
        assertThat(ScheduleBackendChoice.choose("temporal", HAS).backend()).isEqualTo("temporal");
        // unreachable now: the setting is trusted (the first schedule call fails loudly if it is wrong)
        assertThat(ScheduleBackendChoice.choose("temporal", UNKNOWN).backend()).isEqualTo("temporal");
        assertThatThrownBy(() -> ScheduleBackendChoice.choose("temporal", LACKS))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("anvil.schedules.backend (ANVIL_SCHEDULES_BACKEND) is temporal")
                .hasMessageContaining("has no Schedules API")
                .hasMessageContaining("auto").hasMessageContaining("timer");
    }

    @Test
    void anUnknownValueIsRefusedListingTheChoices() {
        assertThatThrownBy(() -> ScheduleBackendChoice.choose("cron", HAS))
                .hasMessageContaining("ANVIL_SCHEDULES_BACKEND").hasMessageContaining("'cron'")
                .hasMessageContaining("auto, temporal, timer");
    }

    @Test
    void theProbeReadsNotFoundAsSchedulesAndUnimplementedAsNone() {
        assertThat(ScheduleSupportProbe.classify(Status.NOT_FOUND, "t").support()).isEqualTo(Support.AVAILABLE);
        assertThat(ScheduleSupportProbe.classify(Status.UNIMPLEMENTED, "t").support()).isEqualTo(Support.UNAVAILABLE);
        assertThat(ScheduleSupportProbe.classify(Status.UNAVAILABLE.withDescription("io"), "t").support())
                .isEqualTo(Support.UNKNOWN);
    }
}
