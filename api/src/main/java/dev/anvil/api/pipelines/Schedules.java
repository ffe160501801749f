package dev.anvil.api.pipelines;

import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflow;
import dev.anvil.workflows.pipeline.schedule.ScheduleConfig;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Keeps one scheduler workflow per scheduled pipeline in step with the registry: started when a
 * spec with a schedule is registered, updated when the schedule changes, stopped when it goes.
 * {@link #ensureAll} restores schedulers after the local Temporal service lost them.
 */
@ApplicationScoped
public class Schedules {
    private static final Logger LOG = Logger.getLogger(Schedules.class);

    @Inject WorkflowClient client;
    @Inject PipelineStore pipelines;

    public void ensure(PipelineSpec spec, boolean paused) {
        String id = PipelineScheduleWorkflow.workflowId(spec.name());
        if (spec.schedule().isEmpty()) {
            stop(spec.name());
            return;
        }
        String cron = spec.schedule().get().expression();
        PipelineScheduleWorkflow scheduler = client.newWorkflowStub(PipelineScheduleWorkflow.class,
                WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(TaskQueues.CPU).build());
        try {
            WorkflowClient.start(scheduler::run,
                    new ScheduleConfig(spec.name(), cron, spec.catchup(), paused, System.currentTimeMillis()));
        } catch (WorkflowExecutionAlreadyStarted running) {
            client.newWorkflowStub(PipelineScheduleWorkflow.class, id).update(cron, spec.catchup());
        }
    }

    /** Starts the scheduler of every registered pipeline whose newest spec has a schedule. */
    public void ensureAll(OperatorRegistry operators) {
        for (PipelineVersion v : pipelines.listLatest()) {
            try {
                PipelineSpec spec = SpecLoader.load(v.spec(), operators, Set.of());
                if (spec.schedule().isPresent()) {
                    ensure(spec, v.paused());
                }
            } catch (SpecException | RuntimeException e) {
                LOG.warnf("could not restore the schedule of '%s': %s", v.pipeline(), e.getMessage());
            }
        }
    }

    /** @return false when the pipeline has no running scheduler */
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

    /**
     * @param requestedBy the caller: the requester of every run the backfill starts
     * @return false when the pipeline has no running scheduler
     */
    public boolean backfill(String pipeline, long fromMillis, long toMillis, String requestedBy) {
        try {
            client.newWorkflowStub(PipelineScheduleWorkflow.class, PipelineScheduleWorkflow.workflowId(pipeline))
                    .backfill(fromMillis, toMillis, requestedBy);
            return true;
        } catch (WorkflowNotFoundException e) {
            return false;
        }
    }

    /** @return how many queued ticks were dropped, or empty when the pipeline has no running scheduler */
    public java.util.OptionalInt cancelBackfill(String pipeline) {
        try {
            return java.util.OptionalInt.of(client.newWorkflowStub(PipelineScheduleWorkflow.class,
                    PipelineScheduleWorkflow.workflowId(pipeline)).cancelBackfill());
        } catch (WorkflowNotFoundException e) {
            return java.util.OptionalInt.empty();
        }
    }

    private void stop(String pipeline) {
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
