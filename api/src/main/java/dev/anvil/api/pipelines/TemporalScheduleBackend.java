package dev.anvil.api.pipelines;

import dev.anvil.workflows.pipeline.schedule.ScheduledTick;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.Schedule;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleAlreadyRunningException;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleException;
import io.temporal.client.schedules.ScheduleHandle;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.ScheduleState;
import io.temporal.client.schedules.ScheduleUpdate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import org.jboss.logging.Logger;

/**
 * A Temporal Schedule per scheduled pipeline (id {@code pipeline-<name>}), for a service that has them: the
 * service fires the ticks, each tick's {@code ScheduledTickWorkflow} starts the run through the same activity
 * as the durable-timer scheduler, so the run row is in PostgreSQL and runs are listed from there alike.
 *
 * <p>Backfills keep their requester (the four-eyes rule keeps whoever asked from approving those runs), which a
 * Temporal Schedule's backfill cannot carry: they go to the pipeline's {@code PipelineScheduleWorkflow}, kept
 * running paused as a queue that fires only asked-for ticks. {@code @once} stays on that workflow altogether.
 */
class TemporalScheduleBackend implements ScheduleBackend {
    static final String NAME = "temporal";
    private static final Logger LOG = Logger.getLogger(TemporalScheduleBackend.class);

    private final ScheduleClient schedules;
    private final TimerScheduleBackend queue;
    private final Clock clock;

    TemporalScheduleBackend(ScheduleClient schedules, TimerScheduleBackend queue, Clock clock) {
        this.schedules = schedules;
        this.queue = queue;
        this.clock = clock;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void ensure(PipelineSpec spec, boolean paused) {
        String pipeline = spec.name();
        if (spec.schedule().isEmpty()) {
            delete(pipeline);
            queue.stop(pipeline);
            return;
        }
        String cron = spec.schedule().get().expression();
        if (new Schedule(cron).firesOnce()) {
            delete(pipeline);
            queue.start(spec, paused);
            return;
        }
        io.temporal.client.schedules.Schedule wanted =
                TemporalSchedulePlan.schedule(pipeline, cron, spec.catchup(), paused, clock.instant());
        try {
            schedules.createSchedule(TemporalSchedulePlan.scheduleId(pipeline), wanted, ScheduleOptions.newBuilder().build());
        } catch (ScheduleAlreadyRunningException exists) {
            // a new spec version: new cron and catchup; paused or not is pause()'s to change
            handle(pipeline).update(in -> new ScheduleUpdate(TemporalSchedulePlan.updated(
                    in.getDescription().getSchedule(), pipeline, cron, spec.catchup())));
        }
        // the backfill queue: the scheduler workflow, paused so that it fires only asked-for ticks
        queue.start(spec, true);
    }

    @Override
    public boolean pause(String pipeline, boolean paused) {
        ScheduleHandle handle = handle(pipeline);
        ScheduleDescription described;
        try {
            described = handle.describe();
        } catch (ScheduleException e) {
            if (notFound(e)) {
                // an @once schedule (on the timer workflow), or none; a cron schedule deleted by hand outside
                // Anvil then fires on its timer workflow until the next start-up creates it again
                return queue.pause(pipeline, paused);
            }
            throw e;
        }
        ScheduleState state = described.getSchedule().getState();
        Instant now = clock.instant();
        if (paused) {
            if (!state.isPaused()) {
                handle.pause(TemporalSchedulePlan.PAUSED_AT + now);
            }
            return true;
        }
        if (!state.isPaused()) {
            return true;
        }
        handle.unpause("resumed by Anvil at " + now);
        // Temporal skips the ticks of a paused schedule; Anvil owes them as its catchup says
        TemporalSchedulePlan.pausedAt(state).ifPresent(since -> {
            if (described.getSchedule().getAction() instanceof ScheduleActionStartWorkflow start) {
                ScheduledTick tick = start.getArguments().get(0, ScheduledTick.class);
                TemporalSchedulePlan.resumeBackfill(tick.cron(), tick.catchup(), since, now)
                        .ifPresent(range -> handle.backfill(List.of(range)));
            }
        });
        return true;
    }

    @Override
    public boolean backfill(String pipeline, long fromMillis, long toMillis, String requestedBy) {
        return queue.backfill(pipeline, fromMillis, toMillis, requestedBy);
    }

    @Override
    public OptionalInt cancelBackfill(String pipeline) {
        return queue.cancelBackfill(pipeline);
    }

    private void delete(String pipeline) {
        delete(schedules, pipeline);
    }

    /** Deletes the pipeline's Temporal Schedule. @return false when it has none */
    static boolean delete(ScheduleClient schedules, String pipeline) {
        try {
            schedules.getHandle(TemporalSchedulePlan.scheduleId(pipeline)).delete();
            LOG.infof("deleted the Temporal Schedule of '%s'", pipeline);
            return true;
        } catch (ScheduleException e) {
            if (!notFound(e)) {
                throw e;
            }
            return false;
        }
    }

    private ScheduleHandle handle(String pipeline) {
        return schedules.getHandle(TemporalSchedulePlan.scheduleId(pipeline));
    }

    static boolean notFound(ScheduleException e) {
        return e.getCause() instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.NOT_FOUND;
    }
}
