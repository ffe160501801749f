package dev.anvil.workflows.pipeline.schedule;

import dev.anvil.workflows.pipeline.spec.Schedule;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * The scheduler: sleeps on a durable timer until the next tick, then starts that tick's run. Pause,
 * unpause, trigger-now, backfill and schedule changes arrive as signals and wake it. After many
 * ticks it continues as new, so its history stays small however long the schedule lives.
 */
public class PipelineScheduleWorkflowImpl implements PipelineScheduleWorkflow {
    /** Ticks fired by one execution before it continues as new with the same state. */
    static final int TICKS_PER_EXECUTION = 100;
    /** A catch-up never starts more runs than this at once; older missed ticks are left out, and logged. */
    static final int MAX_CATCHUP_TICKS = 1000;

    // Starting a run is a database write and a Temporal call; both recover from hiccups, so retry long.
    private final ScheduleActivities activities = Workflow.newActivityStub(ScheduleActivities.class,
            ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(Duration.ofSeconds(30))
                    .setRetryOptions(RetryOptions.newBuilder()
                            .setInitialInterval(Duration.ofSeconds(1))
                            .setBackoffCoefficient(2)
                            .setMaximumInterval(Duration.ofMinutes(5))
                            .setMaximumAttempts(50)
                            .build())
                    .build());

    /** A tick asked for by a person (backfill, trigger): they are the requester of its run. */
    private record ManualTick(long tick, String requestedBy) {}

    private ScheduleConfig config;
    private final Deque<ManualTick> manual = new ArrayDeque<>();
    private boolean changed;

    @Override
    public void run(ScheduleConfig initial) {
        config = initial;
        if (new Schedule(config.cron()).firesOnce()) {
            // @once: one run as soon as the schedule is not paused, then the scheduler ends
            Workflow.await(() -> !config.paused());
            fire(Workflow.currentTimeMillis(), null);
            return;
        }
        int fired = 0;
        while (fired < TICKS_PER_EXECUTION) {
            while (!manual.isEmpty()) {
                ManualTick asked = manual.pollFirst();
                fire(asked.tick(), asked.requestedBy());
                fired++;
            }
            if (config.paused()) {
                Workflow.await(() -> !config.paused() || !manual.isEmpty());
                continue;
            }
            // read once: catching up steps through every missed tick; empty if changed to @once
            Optional<Schedule.FireTimes> times = new Schedule(config.cron()).fireTimes();
            long now = Workflow.currentTimeMillis();
            long last = config.lastFiredAt();
            List<Long> due = times.map(t -> dueTicks(t, last, now)).orElse(List.of());
            if (!due.isEmpty()) {
                List<Long> toFire = config.catchup() ? due : List.of(due.get(due.size() - 1));
                for (long tick : toFire) {
                    fire(tick, null);
                    fired++;
                }
                config = with(config, toFire.get(toFire.size() - 1));
                continue;
            }
            Optional<Instant> next = times.flatMap(t -> t.nextAfter(Instant.ofEpochMilli(last), ZoneOffset.UTC));
            if (next.isEmpty()) {
                // a cron that never fires again: wait for a manual run or a new schedule
                Workflow.await(() -> !manual.isEmpty() || changed);
                changed = false;
                continue;
            }
            changed = false;
            Duration wait = Duration.ofMillis(Math.max(1, next.get().toEpochMilli() - now));
            Workflow.await(wait, () -> config.paused() || !manual.isEmpty() || changed);
        }
        Workflow.continueAsNew(config);
    }

    /**
     * @param requestedBy who asked for this tick, or null for the schedule's own tick (the activity then
     *                    names the version's registrant); never a fixed "scheduler" name, which nobody's
     *                    four-eyes rule would match
     */
    private void fire(long tick, String requestedBy) {
        activities.startScheduledRun(config.pipeline(), Instant.ofEpochMilli(tick).toString(), requestedBy);
    }

    /** Ticks after {@code last} up to {@code now}, oldest first, at most MAX_CATCHUP_TICKS (the newest). */
    private static List<Long> dueTicks(Schedule.FireTimes schedule, long last, long now) {
        List<Long> due = new ArrayList<>();
        Optional<Instant> next = schedule.nextAfter(Instant.ofEpochMilli(last), ZoneOffset.UTC);
        while (next.isPresent() && next.get().toEpochMilli() <= now) {
            due.add(next.get().toEpochMilli());
            if (due.size() > MAX_CATCHUP_TICKS) {
                due.remove(0);
            }
            next = schedule.nextAfter(next.get(), ZoneOffset.UTC);
        }
        return due;
    }

    private static ScheduleConfig with(ScheduleConfig c, long lastFiredAt) {
        return new ScheduleConfig(c.pipeline(), c.cron(), c.catchup(), c.paused(), lastFiredAt);
    }

    @Override
    public void pause() {
        config = new ScheduleConfig(config.pipeline(), config.cron(), config.catchup(), true, config.lastFiredAt());
    }

    @Override
    public void unpause() {
        config = new ScheduleConfig(config.pipeline(), config.cron(), config.catchup(), false, config.lastFiredAt());
    }

    @Override
    public void triggerNow(String requestedBy) {
        manual.addLast(new ManualTick(Workflow.currentTimeMillis(), requestedBy));
    }

    @Override
    public void backfill(long fromMillis, long toMillis, String requestedBy) {
        Optional<Schedule.FireTimes> times = new Schedule(config.cron()).fireTimes();
        if (times.isEmpty()) {
            return; // @once has no ticks to backfill
        }
        Schedule.FireTimes schedule = times.get();
        Optional<Instant> tick = schedule.nextAfter(Instant.ofEpochMilli(fromMillis - 1), ZoneOffset.UTC);
        // the API refuses longer ranges; this bound holds for any signal, and over repeated backfills
        while (tick.isPresent() && tick.get().toEpochMilli() <= toMillis && manual.size() < MAX_BACKFILL_RUNS) {
            manual.addLast(new ManualTick(tick.get().toEpochMilli(), requestedBy));
            tick = schedule.nextAfter(tick.get(), ZoneOffset.UTC);
        }
    }

    @Override
    public int cancelBackfill() {
        int dropped = manual.size();
        manual.clear();
        return dropped;
    }

    @Override
    public void update(String cron, boolean catchup) {
        // the new schedule counts from now: ticks it would have had before it existed are not "missed"
        long from = Math.max(config.lastFiredAt(), Workflow.currentTimeMillis());
        config = new ScheduleConfig(config.pipeline(), cron, catchup, config.paused(), from);
        changed = true;
    }

    @Override
    public ScheduleConfig config() {
        return config;
    }
}
