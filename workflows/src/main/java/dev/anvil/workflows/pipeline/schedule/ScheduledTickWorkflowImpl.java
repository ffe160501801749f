package dev.anvil.workflows.pipeline.schedule;

import dev.anvil.workflows.pipeline.spec.Schedule;
import io.temporal.common.SearchAttributeKey;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * One tick of a Temporal Schedule: reads the tick from the search attribute the schedule set and starts
 * its run. A tick's run is requested by whoever registered the version it runs (requestedBy null), as
 * for the durable-timer scheduler's own ticks.
 */
public class ScheduledTickWorkflowImpl implements ScheduledTickWorkflow {
    private static final SearchAttributeKey<OffsetDateTime> SCHEDULED_AT =
            SearchAttributeKey.forOffsetDateTime(SCHEDULED_START_TIME);

    private final ScheduleActivities activities = Workflow.newActivityStub(ScheduleActivities.class,
            PipelineScheduleWorkflowImpl.START_RUN_OPTIONS);

    @Override
    public String run(ScheduledTick input) {
        String pipeline = input.pipeline();
        OffsetDateTime tick = Workflow.getTypedSearchAttributes().get(SCHEDULED_AT);
        if (tick == null) {
            throw ApplicationFailure.newNonRetryableFailure("this workflow has no " + SCHEDULED_START_TIME
                    + " search attribute, so it does not know its tick; only a Temporal Schedule starts it (to run "
                    + "pipeline '" + pipeline + "' now, POST /api/pipelines/" + pipeline + "/runs)", "NoScheduledTime");
        }
        Instant at = tick.toInstant();
        if (!input.catchup() && newerTickDue(input.cron(), at)) {
            // started late (workers or the service were away): the newer tick's own workflow runs instead
            Workflow.getLogger(ScheduledTickWorkflowImpl.class).info("skipping tick " + at + " of '" + pipeline
                    + "': a newer tick is already due and the schedule does not catch up");
            return null;
        }
        // the same text as the durable-timer scheduler's Instant.ofEpochMilli(tick).toString(): the same run id
        return activities.startScheduledRun(pipeline, at.toString(), null);
    }

    private static boolean newerTickDue(String cron, Instant tick) {
        Optional<Instant> next = new Schedule(cron).nextAfter(tick, ZoneOffset.UTC);
        return next.isPresent() && next.get().toEpochMilli() <= Workflow.currentTimeMillis();
    }
}
