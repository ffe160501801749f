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
 * ticks it continues as new, so its history stays small however long the schedule lives; trigger-now
 * and backfill ticks not started by then go into the next execution's input ({@link ScheduleConfig#pendingRuns}).
 */
public class PipelineScheduleWorkflowImpl implements PipelineScheduleWorkflow {
    /** Ticks fired by one execution before it continues as new with the same state (at most; see ScheduleConfig). */
    static final int TICKS_PER_EXECUTION = 100;
    /** A catch-up never starts more runs than this at once; older missed ticks are left out, and logged. */
    public static final int MAX_CATCHUP_TICKS = 1000;
    /**
     * Change id: an execution stops firing queued trigger-now and backfill ticks at its tick budget
     * and continues as new with the rest queued in its input. Executions recorded before this change
     * (no marker) fired their whole queue and then continued as new with an empty one.
     */
    static final String CARRY_PENDING_RUNS = "carry-pending-runs";

    /**
     * Starting a run is a database write and a Temporal call; both recover from hiccups, so retry long. Also the
     * options of {@link ScheduledTickWorkflowImpl}, which starts a Temporal Schedule's ticks the same way.
     */
    static final ActivityOptions START_RUN_OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RetryOptions.newBuilder()
                    .setInitialInterval(Duration.ofSeconds(1))
                    .setBackoffCoefficient(2)
                    .setMaximumInterval(Duration.ofMinutes(5))
                    .setMaximumAttempts(50)
                    .build())
            .build();

    private final ScheduleActivities activities = Workflow.newActivityStub(ScheduleActivities.class, START_RUN_OPTIONS);

    /** The schedule; its own pendingRuns stay empty, the queue is {@link #manual}. */
    private ScheduleConfig config;
    /** Ticks asked for by people (backfill, trigger-now), oldest first: they are the requesters of their runs. */
    private final Deque<PendingRun> manual = new ArrayDeque<>();
    private boolean changed;

    @Override
    public void run(ScheduleConfig initial) {
        config = initial.withPendingRuns(List.of());
        // runs handed on by the previous execution go before any asked for since (a signal can be handled first)
        List<PendingRun> carried = initial.pendingRuns();
        for (int i = carried.size() - 1; i >= 0; i--) {
            manual.addFirst(carried.get(i));
        }
        if (new Schedule(config.cron()).firesOnce()) {
            // @once: one run as soon as the schedule is not paused, then the scheduler ends
            Workflow.await(() -> !config.paused());
            fire(Workflow.currentTimeMillis(), null);
            Workflow.await(Workflow::isEveryHandlerFinished);
            return;
        }
        int ticksPerExecution = ticksPerExecution(config);
        int fired = 0;
        while (fired < ticksPerExecution) {
            // a long backfill is spread over executions, each with a bounded history
            while (!manual.isEmpty() && (fired < ticksPerExecution || !carriesPendingRuns())) {
                PendingRun asked = manual.pollFirst();
                fire(asked.tick(), asked.requestedBy());
                fired++;
            }
            if (!manual.isEmpty()) {
                break; // the budget is spent: the next execution starts with the rest
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
                config = config.withLastFiredAt(toFire.get(toFire.size() - 1));
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
        continueAsNewWithQueue();
    }

    /**
     * Continues as new with every queued tick in the input, including those whose signals arrived
     * while the last run was starting. A signal that arrives after this decision makes the service
     * refuse the continue-as-new and replay it with the signal applied, so it lands in the queue too.
     */
    private void continueAsNewWithQueue() {
        // a handler still waiting (see awaitConfig) would otherwise be cut off, and its signal lost
        Workflow.await(Workflow::isEveryHandlerFinished);
        if (carriesPendingRuns()) {
            Workflow.continueAsNew(config.withPendingRuns(List.copyOf(manual)));
        } else {
            Workflow.continueAsNew(config); // as recorded before the change: the queue was dropped
        }
    }

    /**
     * Whether this execution hands its queue on at continue-as-new (see {@link #CARRY_PENDING_RUNS}).
     * Package-private so a test can show what happens without the version check.
     */
    boolean carriesPendingRuns() {
        return Workflow.getVersion(CARRY_PENDING_RUNS, Workflow.DEFAULT_VERSION, 1) >= 1;
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

    /** The input's tick budget: 0 or less is the default, and no input raises it past the default. */
    static int ticksPerExecution(ScheduleConfig c) {
        return c.ticksPerExecution() <= 0 ? TICKS_PER_EXECUTION : Math.min(c.ticksPerExecution(), TICKS_PER_EXECUTION);
    }

    /**
     * Holds a handler that needs the schedule until {@link #run} has it: a signal sent with the start
     * (or right after it) is handled before the workflow method runs.
     */
    private void awaitConfig() {
        Workflow.await(() -> config != null);
    }

    @Override
    public void pause() {
        awaitConfig();
        config = config.withPaused(true);
    }

    @Override
    public void unpause() {
        awaitConfig();
        config = config.withPaused(false);
    }

    @Override
    public void triggerNow(String requestedBy) {
        manual.addLast(new PendingRun(Workflow.currentTimeMillis(), requestedBy));
    }

    @Override
    public void backfill(long fromMillis, long toMillis, String requestedBy) {
        awaitConfig();
        Optional<Schedule.FireTimes> times = new Schedule(config.cron()).fireTimes();
        if (times.isEmpty()) {
            return; // @once has no ticks to backfill
        }
        Schedule.FireTimes schedule = times.get();
        Optional<Instant> tick = schedule.nextAfter(Instant.ofEpochMilli(fromMillis - 1), ZoneOffset.UTC);
        // the API refuses longer ranges; this bound holds for any signal, and over repeated backfills
        while (tick.isPresent() && tick.get().toEpochMilli() <= toMillis && manual.size() < MAX_BACKFILL_RUNS) {
            manual.addLast(new PendingRun(tick.get().toEpochMilli(), requestedBy));
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
        awaitConfig();
        // the new schedule counts from now: ticks it would have had before it existed are not "missed"
        long from = Math.max(config.lastFiredAt(), Workflow.currentTimeMillis());
        config = config.withSchedule(cron, catchup, from);
        changed = true;
    }

    @Override
    public ScheduleConfig config() {
        if (config == null) {
            throw new IllegalStateException("the schedule has not started yet; ask again");
        }
        return config.withPendingRuns(List.copyOf(manual));
    }
}
