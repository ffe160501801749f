package dev.anvil.api.pipelines;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflowImpl;
import dev.anvil.workflows.pipeline.schedule.ScheduledTick;
import dev.anvil.workflows.pipeline.schedule.ScheduledTickWorkflow;
import dev.anvil.workflows.pipeline.spec.Schedule;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.SchedulePolicy;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleState;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How an Anvil schedule (cron or preset, UTC, catchup) becomes a Temporal Schedule: its spec, policy, state
 * and action. Pure translation, no calls; {@link TemporalScheduleBackend} sends what this builds.
 */
final class TemporalSchedulePlan {
    /** How far back the service catches up ticks it missed while it was down; the tick workflows then apply catchup. */
    static final Duration CATCHUP_WINDOW = Duration.ofDays(365);
    /** The state note of a schedule paused by Anvil: the instant follows, so that resuming can catch up. */
    static final String PAUSED_AT = "paused by Anvil at ";
    private static final List<String> MONTHS = List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
            "OCT", "NOV", "DEC");
    private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

    private TemporalSchedulePlan() {}

    /** The Temporal Schedule's id (its own namespace of ids, apart from workflow ids). */
    static String scheduleId(String pipeline) {
        return "pipeline-" + pipeline;
    }

    static io.temporal.client.schedules.Schedule schedule(String pipeline, String cron, boolean catchup, boolean paused,
                                                          Instant now) {
        return io.temporal.client.schedules.Schedule.newBuilder()
                .setSpec(spec(cron))
                .setPolicy(policy())
                .setAction(action(pipeline, cron, catchup))
                .setState(state(paused, now))
                .build();
    }

    /** A schedule's new spec, policy and action, keeping the state (paused or not) it has. */
    static io.temporal.client.schedules.Schedule updated(io.temporal.client.schedules.Schedule current, String pipeline,
                                                         String cron, boolean catchup) {
        return io.temporal.client.schedules.Schedule.newBuilder(current)
                .setSpec(spec(cron))
                .setPolicy(policy())
                .setAction(action(pipeline, cron, catchup))
                .build();
    }

    /** The cron in UTC, Anvil's zone: one cron string, or two when it needs Unix cron's day rule (see cronStrings). */
    static ScheduleSpec spec(String cron) {
        return ScheduleSpec.newBuilder().setCronExpressions(cronStrings(cron)).setTimeZoneName("UTC").build();
    }

    /**
     * Anvil's cron as Temporal cron strings: presets expanded, month and weekday names as numbers. Unix cron (and
     * Anvil) fire on a day matching the day of month OR the day of week when both are restricted; Temporal matches
     * both (AND). Such a cron becomes two, one per day field, whose union is the Unix meaning.
     *
     * @throws IllegalArgumentException for {@code @once}, which has no cron (it stays on the durable-timer scheduler)
     */
    static List<String> cronStrings(String expression) {
        Schedule schedule = new Schedule(expression); // validates, naming the field that is wrong
        if (schedule.firesOnce()) {
            throw new IllegalArgumentException("'" + Schedule.ONCE + "' has no cron; it runs on the durable-timer scheduler");
        }
        String cron = Schedule.PRESETS.getOrDefault(schedule.expression(), schedule.expression());
        String[] f = cron.trim().split("\\s+");
        f[3] = numbered(f[3], MONTHS, 1);
        f[4] = numbered(f[4], DAYS, 0);
        boolean dayOfMonthSet = !f[2].equals("*") && !f[2].equals("?");
        boolean dayOfWeekSet = !f[4].equals("*") && !f[4].equals("?");
        if (dayOfMonthSet && dayOfWeekSet) {
            return List.of(String.join(" ", f[0], f[1], f[2], f[3], "*"), String.join(" ", f[0], f[1], "*", f[3], f[4]));
        }
        return List.of(String.join(" ", f));
    }

    /**
     * Every tick starts its run (ALLOW_ALL): a tick's workflow only starts the pipeline's run and ends, and the
     * durable-timer scheduler never waits for runs either. Missed ticks are caught up within a year; the tick
     * workflow itself skips all but the latest when the spec says catchup: false.
     */
    static SchedulePolicy policy() {
        return SchedulePolicy.newBuilder()
                .setOverlap(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL)
                .setCatchupWindow(CATCHUP_WINDOW)
                .setPauseOnFailure(false)
                .build();
    }

    static ScheduleActionStartWorkflow action(String pipeline, String cron, boolean catchup) {
        return ScheduleActionStartWorkflow.newBuilder()
                .setWorkflowType(ScheduledTickWorkflow.class)
                .setArguments(new ScheduledTick(pipeline, cron, catchup))
                .setOptions(WorkflowOptions.newBuilder()
                        .setWorkflowId(ScheduledTickWorkflow.workflowIdPrefix(pipeline))
                        .setTaskQueue(TaskQueues.CPU)
                        .build())
                .build();
    }

    static ScheduleState state(boolean paused, Instant now) {
        return ScheduleState.newBuilder().setPaused(paused).setNote(paused ? PAUSED_AT + now : "").build();
    }

    /** When Anvil paused the schedule, read back from its note; empty when paused by something else. */
    static Optional<Instant> pausedAt(ScheduleState state) {
        String note = state.getNote() == null ? "" : state.getNote();
        if (!note.startsWith(PAUSED_AT)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(note.substring(PAUSED_AT.length()).trim()));
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /**
     * The ticks a resumed schedule owes, as the durable-timer scheduler counts them (Temporal skips the ticks of a
     * paused schedule): every tick in (pausedAt, now] with catchup, at most the newest
     * {@code PipelineScheduleWorkflowImpl.MAX_CATCHUP_TICKS}, or only the latest without. Each end is widened by a
     * second, so that the range holds its ends however the service reads its bounds; ticks are a minute apart.
     */
    static Optional<io.temporal.client.schedules.ScheduleBackfill> resumeBackfill(String expression, boolean catchup,
                                                                                  Instant pausedAt, Instant now) {
        Optional<Schedule.FireTimes> times = new Schedule(expression).fireTimes();
        if (times.isEmpty()) {
            return Optional.empty();
        }
        List<Instant> due = new ArrayList<>();
        Optional<Instant> next = times.get().nextAfter(pausedAt, ZoneOffset.UTC);
        while (next.isPresent() && !next.get().isAfter(now)) {
            due.add(next.get());
            if (due.size() > PipelineScheduleWorkflowImpl.MAX_CATCHUP_TICKS) {
                due.remove(0);
            }
            next = times.get().nextAfter(next.get(), ZoneOffset.UTC);
        }
        if (due.isEmpty()) {
            return Optional.empty();
        }
        Instant first = catchup ? due.get(0) : due.get(due.size() - 1);
        Instant last = due.get(due.size() - 1);
        return Optional.of(new io.temporal.client.schedules.ScheduleBackfill(first.minusSeconds(1), last.plusSeconds(1),
                ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL));
    }

    /** JAN-DEC or SUN-SAT in one cron field as numbers (Temporal's parser is not held to read the names). */
    private static String numbered(String field, List<String> names, int first) {
        String out = field.toUpperCase(Locale.ROOT);
        for (int i = 0; i < names.size(); i++) {
            out = out.replace(names.get(i), Integer.toString(first + i));
        }
        return out;
    }
}
