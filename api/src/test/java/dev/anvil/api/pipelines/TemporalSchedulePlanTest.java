package dev.anvil.api.pipelines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.schedule.ScheduledTick;
import dev.anvil.workflows.pipeline.schedule.ScheduledTickWorkflow;
import dev.anvil.workflows.pipeline.spec.Schedule;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleBackfill;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Anvil's schedule as a Temporal Schedule: spec, policy, state, action and the catch-up owed on resume. */
class TemporalSchedulePlanTest {
    private static final Instant NOW = Instant.parse("2026-12-07T03:20:00Z");

    @Test
    void aScheduleStartsTheTickWorkflowOfItsPipelineOnTheCpuQueueInUtc() {
        io.temporal.client.schedules.Schedule s = TemporalSchedulePlan.schedule("nightly", "0 3 * * *", true, false, NOW);

        assertThat(s.getSpec().getCronExpressions()).containsExactly("0 3 * * *");
        assertThat(s.getSpec().getTimeZoneName()).isEqualTo("UTC");
        ScheduleActionStartWorkflow action = (ScheduleActionStartWorkflow) s.getAction();
        assertThat(action.getWorkflowType()).isEqualTo("ScheduledTickWorkflow");
        assertThat(action.getOptions().getTaskQueue()).isEqualTo(TaskQueues.CPU);
        assertThat(action.getOptions().getWorkflowId()).isEqualTo(ScheduledTickWorkflow.workflowIdPrefix("nightly"));
        assertThat(action.getArguments().get(0, ScheduledTick.class)).isEqualTo(new ScheduledTick("nightly", "0 3 * * *", true));
        assertThat(s.getState().isPaused()).isFalse();
        assertThat(TemporalSchedulePlan.scheduleId("nightly")).isEqualTo("pipeline-nightly");
    }

    @Test
    void everyTickStartsItsRunAndMissedTicksAreLeftToTheTickWorkflow() {
        io.temporal.client.schedules.SchedulePolicy policy = TemporalSchedulePlan.policy();

        assertThat(policy.getOverlap()).isEqualTo(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
        assertThat(policy.getCatchupWindow()).isEqualTo(Duration.ofDays(365));
        assertThat(policy.isPauseOnFailure()).isFalse();
    }

    @Test
    void aPausedScheduleRemembersWhenSoThatResumingCanCatchUp() {
        io.temporal.client.schedules.Schedule s = TemporalSchedulePlan.schedule("nightly", "@daily", false, true, NOW);

        assertThat(s.getState().isPaused()).isTrue();
        assertThat(TemporalSchedulePlan.pausedAt(s.getState())).contains(NOW);
        assertThat(TemporalSchedulePlan.pausedAt(TemporalSchedulePlan.state(false, NOW))).isEmpty();
    }

    @Test
    void anUpdateChangesCronCatchupAndActionButKeepsThePause() {
        io.temporal.client.schedules.Schedule paused = TemporalSchedulePlan.schedule("nightly", "@daily", false, true, NOW);

        io.temporal.client.schedules.Schedule updated = TemporalSchedulePlan.updated(paused, "nightly", "0 5 * * 1", true);

        assertThat(updated.getSpec().getCronExpressions()).containsExactly("0 5 * * 1");
        assertThat(((ScheduleActionStartWorkflow) updated.getAction()).getArguments().get(0, ScheduledTick.class))
                .isEqualTo(new ScheduledTick("nightly", "0 5 * * 1", true));
        assertThat(updated.getState()).isEqualTo(paused.getState());
    }

    @Test
    void presetsAndNamesBecomeNumberedCron() {
        assertThat(TemporalSchedulePlan.cronStrings("@daily")).containsExactly("0 0 * * *");
        assertThat(TemporalSchedulePlan.cronStrings("@weekly")).containsExactly("0 0 * * 0");
        assertThat(TemporalSchedulePlan.cronStrings("30 6 * jan-mar MON-fri")).containsExactly("30 6 * 1-3 1-5");
        assertThat(TemporalSchedulePlan.cronStrings("*/15 * * * *")).containsExactly("*/15 * * * *");
    }

    @Test
    void bothDayFieldsSetBecomeTwoCronsWhoseUnionIsTheUnixMeaning() {
        assertThat(TemporalSchedulePlan.cronStrings("0 12 1,15 * 1")).containsExactly("0 12 1,15 * *", "0 12 * * 1");
        // the same ticks as Anvil's own evaluation (cron-utils, Vixie cron's OR) over a year, for several shapes
        for (String cron : List.of("0 12 1,15 * 1", "0 0 13 * FRI", "30 2 1-7 * 1-5", "0 0 */2 * 1", "5 4 * * *",
                "0 3 1 * *", "0 0 31 * SUN")) {
            List<String> strings = TemporalSchedulePlan.cronStrings(cron);
            for (String s : strings) {
                String[] f = s.split(" ");
                // at most one day field set: Temporal's AND and Unix's OR then mean the same
                assertThat(f[2].equals("*") || f[4].equals("*")).as(s).isTrue();
            }
            assertThat(union(strings)).as(cron).isEqualTo(ticks(List.of(cron)));
        }
    }

    @Test
    void onceAndBadCronAreRefusedNamingTheProblem() {
        assertThatThrownBy(() -> TemporalSchedulePlan.cronStrings("@once")).hasMessageContaining("durable-timer");
        assertThatThrownBy(() -> TemporalSchedulePlan.cronStrings("0 25 * * *")).hasMessageContaining("hour field '25'");
    }

    @Test
    void resumingWithCatchupBackfillsEveryTickOfThePauseAndWithoutItOnlyTheLatest() {
        Instant pausedAt = Instant.parse("2026-12-01T10:00:00Z");

        ScheduleBackfill all = TemporalSchedulePlan.resumeBackfill("0 3 * * *", true, pausedAt, NOW).orElseThrow();
        ScheduleBackfill latest = TemporalSchedulePlan.resumeBackfill("0 3 * * *", false, pausedAt, NOW).orElseThrow();

        // ticks on Dec 2..7 at 03:00; each end widened by a second
        assertThat(all.getStartAt()).isEqualTo(Instant.parse("2026-12-02T02:59:59Z"));
        assertThat(all.getEndAt()).isEqualTo(Instant.parse("2026-12-07T03:00:01Z"));
        assertThat(latest.getStartAt()).isEqualTo(Instant.parse("2026-12-07T02:59:59Z"));
        assertThat(latest.getEndAt()).isEqualTo(Instant.parse("2026-12-07T03:00:01Z"));
        assertThat(all.getOverlapPolicy()).isEqualTo(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
    }

    @Test
    void resumingOwesNothingWhenNoTickFellInThePauseAndAtMostTheCatchupCap() {
        assertThat(TemporalSchedulePlan.resumeBackfill("0 3 * * *", true, Instant.parse("2026-12-07T03:10:00Z"), NOW))
                .isEmpty();
        // a minutely schedule paused for a week: only the newest 1000 ticks, as the timer scheduler's catch-up
        ScheduleBackfill capped = TemporalSchedulePlan.resumeBackfill("* * * * *", true, NOW.minus(Duration.ofDays(7)), NOW)
                .orElseThrow();
        assertThat(capped.getEndAt()).isEqualTo(NOW.plusSeconds(1));
        assertThat(capped.getStartAt()).isEqualTo(NOW.minus(Duration.ofMinutes(999)).minusSeconds(1));
    }

    private static TreeSet<Instant> union(List<String> crons) {
        return ticks(crons);
    }

    /** Every tick of the crons in 2027, by Anvil's own evaluation. */
    private static TreeSet<Instant> ticks(List<String> crons) {
        TreeSet<Instant> all = new TreeSet<>();
        Instant from = Instant.parse("2027-01-01T00:00:00Z");
        Instant to = Instant.parse("2028-01-01T00:00:00Z");
        for (String cron : crons) {
            List<Instant> found = new ArrayList<>();
            var next = new Schedule(cron).nextAfter(from.minusSeconds(1), ZoneOffset.UTC);
            while (next.isPresent() && next.get().isBefore(to)) {
                found.add(next.get());
                next = new Schedule(cron).nextAfter(next.get(), ZoneOffset.UTC);
            }
            all.addAll(found);
        }
        return all;
    }
}
