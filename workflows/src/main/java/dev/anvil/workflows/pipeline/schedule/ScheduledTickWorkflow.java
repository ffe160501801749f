package dev.anvil.workflows.pipeline.schedule;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The action of a pipeline's Temporal Schedule (on a cluster that has Temporal Schedules): starts the run of
 * the tick the schedule fired for, through the same activity as {@link PipelineScheduleWorkflow}, so the run
 * row is written to PostgreSQL and its id is the same one the durable-timer scheduler would give that tick.
 */
@WorkflowInterface
public interface ScheduledTickWorkflow {
    /** The search attribute Temporal Schedules set on every workflow they start: the tick's scheduled time. */
    String SCHEDULED_START_TIME = "TemporalScheduledStartTime";

    /** The workflow id prefix of a schedule's ticks; Temporal appends {@code -<the tick, RFC 3339>}. */
    static String workflowIdPrefix(String pipeline) {
        return "scheduled-" + pipeline;
    }

    /** @return the run id, or null when the tick was skipped (see {@link ScheduledTick#catchup}) */
    @WorkflowMethod
    String run(ScheduledTick tick);
}
