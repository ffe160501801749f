package dev.anvil.workflows.pipeline.schedule;

/**
 * The input of {@link ScheduledTickWorkflow}: the pipeline and its schedule as the Temporal Schedule was last
 * set from the spec (an update of the schedule updates this input too).
 *
 * @param cron    the spec's cron expression or preset
 * @param catchup false: a tick that starts after the schedule's next tick was already due is skipped, so that
 *                only the latest missed tick runs, as the durable-timer scheduler does
 */
public record ScheduledTick(String pipeline, String cron, boolean catchup) {}
