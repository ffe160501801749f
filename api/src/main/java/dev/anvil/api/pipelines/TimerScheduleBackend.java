package dev.anvil.api.pipelines;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflow;
import dev.anvil.workflows.pipeline.schedule.ScheduleConfig;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.schedules.ScheduleClient;
import java.util.OptionalInt;
import org.jboss.logging.Logger;

/**
 * One {@link PipelineScheduleWorkflow} per scheduled pipeline, firing on durable timers: started when a spec
 * with a schedule is registered, updated when the schedule changes, stopped when it goes. Works on every
 * Temporal service, the Java dev server included.
 */
class TimerScheduleBackend implements ScheduleBackend {
    static final String NAME = "timer";
    private static final Logger LOG = Logger.getLogger(TimerScheduleBackend.class);

    private final WorkflowClient client;
    /** On a service with Schedules: where a Temporal Schedule left by an earlier process is deleted; else null. */
    private final ScheduleClient leftovers;

    TimerScheduleBackend(WorkflowClient client) {
        this(client, null);
    }

    /**
     * @param leftovers on a service that has Schedules, its schedule client: {@link #ensure} first deletes the
     *                  pipeline's Temporal Schedule, which a process that used them left (each tick would fire
     *                  twice, on the schedule and on the timers)
     */
    TimerScheduleBackend(WorkflowClient client, ScheduleClient leftovers) {
        this.client = client;
        this.leftovers = leftovers;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void ensure(PipelineSpec spec, boolean paused) {
        if (leftovers != null && TemporalScheduleBackend.delete(leftovers, spec.name())) {
            LOG.infof("'%s' is scheduled on durable timers now; its Temporal Schedule (from a process that used"
                    + " Temporal Schedules) was deleted so that a tick fires once", spec.name());
        }
        if (spec.schedule().isEmpty()) {
            stop(spec.name());
            return;
        }
        start(spec, paused);
    }

    /**
     * Starts the scheduler, or updates a running one and sets it paused or not as the registry says (a scheduler
     * left as {@link TemporalScheduleBackend}'s paused queue fires its ticks again once this backend is chosen).
     */
    void start(PipelineSpec spec, boolean paused) {
        String id = PipelineScheduleWorkflow.workflowId(spec.name());
        String cron = spec.schedule().orElseThrow().expression();
        PipelineScheduleWorkflow scheduler = client.newWorkflowStub(PipelineScheduleWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(TaskQueues.CPU).build());
        try {
            WorkflowClient.start(scheduler::run,
                    new ScheduleConfig(spec.name(), cron, spec.catchup(), paused, System.currentTimeMillis()));
        } catch (WorkflowExecutionAlreadyStarted running) {
            PipelineScheduleWorkflow existing = client.newWorkflowStub(PipelineScheduleWorkflow.class, id);
            existing.update(cron, spec.catchup());
            if (paused) {
                existing.pause();
            } else {
                existing.unpause();
            }
        }
    }

    @Override
    public boolean pause(String pipeline, boolean paused) {
        try {
            PipelineScheduleWorkflow scheduler = client.newWorkflowStub(PipelineScheduleWorkflow.class,
                    PipelineScheduleWorkflow.workflowId(pipeline));
            if (paused) {
                scheduler.pause();
            } else {
                scheduler.unpause();
            }
            return true;
        } catch (WorkflowNotFoundException e) {
            return false;
        }
    }

    @Override
    public boolean backfill(String pipeline, long fromMillis, long toMillis, String requestedBy) {
        try {
            client.newWorkflowStub(PipelineScheduleWorkflow.class, PipelineScheduleWorkflow.workflowId(pipeline))
                    .backfill(fromMillis, toMillis, requestedBy);
            return true;
        } catch (WorkflowNotFoundException e) {
            return false;
        }
    }

    @Override
    public OptionalInt cancelBackfill(String pipeline) {
        try {
            return OptionalInt.of(client.newWorkflowStub(PipelineScheduleWorkflow.class,
                    PipelineScheduleWorkflow.workflowId(pipeline)).cancelBackfill());
        } catch (WorkflowNotFoundException e) {
            return OptionalInt.empty();
        }
    }

    void stop(String pipeline) {
        try {
            WorkflowStub stub = client.newUntypedWorkflowStub(PipelineScheduleWorkflow.workflowId(pipeline));
            stub.terminate("the pipeline's spec no longer has a schedule");
        } catch (WorkflowNotFoundException e) {
            // never scheduled
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).contains("NOT_FOUND") && !String.valueOf(e.getMessage()).contains("completed")) {
                throw e;
            }
        }
    }
}
