package dev.anvil.workflows.pipeline.schedule;

import java.util.List;

/**
 * A pipeline's schedule as its scheduler workflow keeps it, and the input it continues as new with.
 *
 * @param cron          a cron expression or preset (see {@code Schedule})
 * @param catchup       on resume, run every missed tick (true) or only the latest (false), as Airflow
 * @param lastFiredAt   the newest tick already fired (epoch millis), or the registration time
 * @param pendingRuns   trigger-now and backfill ticks asked for but not started yet, oldest first: an
 *                      execution that continues as new hands them on here, so none is lost; empty
 *                      when a schedule starts (and in inputs recorded before this field existed)
 */
public record ScheduleConfig(String pipeline, String cron, boolean catchup, boolean paused, long lastFiredAt,
                             List<PendingRun> pendingRuns) {

    public ScheduleConfig {
        pendingRuns = pendingRuns == null ? List.of() : List.copyOf(pendingRuns);
    }

    /** A schedule with nothing queued: how the API starts one. */
    public ScheduleConfig(String pipeline, String cron, boolean catchup, boolean paused, long lastFiredAt) {
        this(pipeline, cron, catchup, paused, lastFiredAt, List.of());
    }

    /** The same schedule with {@code runs} as its queue. */
    public ScheduleConfig withPendingRuns(List<PendingRun> runs) {
        return new ScheduleConfig(pipeline, cron, catchup, paused, lastFiredAt, runs);
    }
}
