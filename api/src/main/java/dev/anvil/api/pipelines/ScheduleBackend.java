package dev.anvil.api.pipelines;

import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import java.util.OptionalInt;

/**
 * What fires a pipeline's schedule: Anvil's durable-timer scheduler workflow, or a Temporal Schedule where the
 * service has them. {@link Schedules} picks one per process at start-up; the API only talks to that.
 */
interface ScheduleBackend {
    /** "timer" or "temporal", as the setting anvil.schedules.backend names it. */
    String name();

    /** Creates, updates or (for a spec without a schedule) deletes the pipeline's schedule. */
    void ensure(PipelineSpec spec, boolean paused);

    /** @return false when the pipeline has no schedule */
    boolean pause(String pipeline, boolean paused);

    /**
     * Runs every tick in [fromMillis, toMillis], oldest first, each requested by {@code requestedBy}.
     *
     * @return false when the pipeline has no schedule
     */
    boolean backfill(String pipeline, long fromMillis, long toMillis, String requestedBy);

    /** @return how many queued backfill ticks were dropped, or empty when the pipeline has no schedule */
    OptionalInt cancelBackfill(String pipeline);
}
