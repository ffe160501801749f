package dev.anvil.api.pipelines;

import dev.anvil.api.auth.AuditTrail;
import dev.anvil.db.PipelineStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Pausing and resuming a pipeline's schedule, one way for every API that offers it (Anvil's own
 * {@code /api/pipelines/{name}/pause} and Airflow's {@code PATCH /api/v2/dags/{dag_id}}): the stored flag,
 * the scheduler workflow and the audit trail change together.
 */
@ApplicationScoped
public class PipelinePausing {
    @Inject PipelineStore pipelines;
    @Inject Schedules schedules;
    @Inject AuditTrail trail;

    /**
     * The caller checks that the pipeline exists first.
     *
     * @return whether a scheduler was running to pause or resume (false for a pipeline without a schedule)
     */
    public boolean setPaused(String name, boolean paused) {
        pipelines.setPaused(name, paused);
        boolean scheduled = schedules.pause(name, paused);
        trail.record(paused ? "pipeline.paused" : "pipeline.unpaused", "pipeline:" + name);
        return scheduled;
    }
}
