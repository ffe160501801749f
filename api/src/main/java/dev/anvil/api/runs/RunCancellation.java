package dev.anvil.api.runs;

import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;

/**
 * Cancelling a run, one way for every API that offers it (Anvil's {@code POST /api/runs/{id}/cancel} and
 * Airflow's {@code PATCH .../dagRuns/{id}} to failed): the workflow is cancelled, running tasks are recorded
 * failed and tasks not started skipped.
 */
@ApplicationScoped
public class RunCancellation {
    @Inject PipelineRunStore runs;
    @Inject dev.anvil.db.RunAdmissionStore admissions;
    @Inject WorkflowClient client;
    @Inject AuditTrail trail;

    /**
     * @throws ProblemException 404 when there is no such run, 409 when it already ended or its workflow is gone
     *                          (then it is marked failed)
     */
    public void cancel(String id) {
        PipelineRun run = runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        if (run.isTerminal()) {
            throw new ProblemException(409, "Conflict", "run '" + id + "' already ended as " + run.status()
                    + "; only queued or running runs can be cancelled", List.of());
        }
        if (admissions.cancelWaiting(id)) {
            // it waited for a slot (max_active_runs): no workflow started, so none to cancel
            trail.record("run.cancelled", "run:" + id);
            return;
        }
        try {
            client.newUntypedWorkflowStub(id).cancel();
        } catch (WorkflowNotFoundException e) {
            runs.markFailed(id, "the workflow behind this run no longer exists; retry the run");
            throw new ProblemException(409, "Conflict", "run '" + id + "' has no workflow any more; it was marked failed",
                    List.of());
        }
        trail.record("run.cancelled", "run:" + id);
    }
}
