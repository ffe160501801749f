package dev.anvil.workflows.pipeline.schedule;

import java.util.List;

/**
 * A pipeline's schedule as its scheduler workflow keeps it, and the input it continues as new with.
 *
 * @param cron              a cron expression or preset (see {@code Schedule})
 * @param catchup           on resume, run every missed tick (true) or only the latest (false), as Airflow
 * @param lastFiredAt       the newest tick already fired (epoch millis), or the registration time
 * @param pendingRuns       trigger-now and backfill ticks asked for but not started yet, oldest first: an
 *                          execution that continues as new hands them on here, so none is lost; empty
 *                          when a schedule starts (and in inputs recorded before this field existed)
 * @param ticksPerExecution runs one execution starts before it continues as new; 0 (the default, and
 *                          what inputs recorded before this field existed read as) means 100, and more
 *                          than 100 counts as 100, so that a history stays small. Tests and recorded
 *                          histories set it low to reach continue-as-new in a few ticks.
 */
public record ScheduleConfig(String pipeline, String cron, boolean catchup, boolean paused, long lastFiredAt,
                             List<PendingRun> pendingRuns, int ticksPerExecution) {

    public ScheduleConfig {
        pendingRuns = pendingRuns == null ? List.of() : List.copyOf(pendingRuns);
    }

    /** A schedule with nothing queued and the default tick budget: how the API starts one. */
    public ScheduleConfig(String pipeline, String cron, boolean catchup, boolean paused, long lastFiredAt) {
        this(pipeline, cron, catchup, paused, lastFiredAt, List.of(), 0);
    }

    /** The same schedule with {@code runs} as its queue. */
    public ScheduleConfig withPendingRuns(List<PendingRun> runs) {
        return new ScheduleConfig(pipeline, cron, catchup, paused, lastFiredAt, runs, ticksPerExecution);
    }

    public ScheduleConfig withPaused(boolean isPaused) {
        return new ScheduleConfig(pipeline, cron, catchup, isPaused, lastFiredAt, pendingRuns, ticksPerExecution);
    }

    public ScheduleConfig withLastFiredAt(long tick) {
        return new ScheduleConfig(pipeline, cron, catchup, paused, tick, pendingRuns, ticksPerExecution);
    }

    /** A new cron and catch-up rule, counting from {@code from}. */
    public ScheduleConfig withSchedule(String newCron, boolean newCatchup, long from) {
        return new ScheduleConfig(pipeline, newCron, newCatchup, paused, from, pendingRuns, ticksPerExecution);
    }

    /** Sets the tick budget of each execution (see {@link #ticksPerExecution}). */
    public ScheduleConfig withTicksPerExecution(int ticks) {
        return new ScheduleConfig(pipeline, cron, catchup, paused, lastFiredAt, pendingRuns, ticks);
    }
}
