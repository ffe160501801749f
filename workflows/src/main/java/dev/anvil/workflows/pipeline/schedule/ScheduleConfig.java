package dev.anvil.workflows.pipeline.schedule;

/**
 * A pipeline's schedule as its scheduler workflow keeps it.
 *
 * @param cron          a cron expression or preset (see {@code Schedule})
 * @param catchup       on resume, run every missed tick (true) or only the latest (false), as Airflow
 * @param lastFiredAt   the newest tick already fired (epoch millis), or the registration time
 */
public record ScheduleConfig(String pipeline, String cron, boolean catchup, boolean paused, long lastFiredAt) {}
