package dev.anvil.api.temporal;

import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Squares what PostgreSQL says is in flight with what Temporal knows. The local dev server keeps
 * runs in memory only: after it restarts, a run PostgreSQL still shows as running has no workflow
 * behind it, and is marked failed with a reason a person can act on instead of showing "running"
 * forever. Runs that Temporal closed while nobody wrote their state are brought up to date.
 */
public class RunReconciler {
    static final String LOST_RUN_REASON =
            "the local Temporal service restarted and lost this run; retry the run";
    private static final Logger LOG = Logger.getLogger(RunReconciler.class);

    private final PipelineRunStore runs;
    private final WorkflowServiceStubs stubs;
    private final String namespace;

    public RunReconciler(PipelineRunStore runs, WorkflowServiceStubs stubs, String namespace) {
        this.runs = runs;
        this.stubs = stubs;
        this.namespace = namespace;
    }

    /** @return the ids of the runs whose state was changed */
    public List<String> reconcile() {
        List<PipelineRun> inFlight = new ArrayList<>(runs.listByStatus("queued"));
        inFlight.addAll(runs.listByStatus("running"));
        List<String> changed = new ArrayList<>();
        for (PipelineRun run : inFlight) {
            WorkflowExecutionStatus status = describe(run.id());
            String outcome = switch (status) {
                case WORKFLOW_EXECUTION_STATUS_RUNNING -> null;
                case WORKFLOW_EXECUTION_STATUS_COMPLETED -> "success";
                case WORKFLOW_EXECUTION_STATUS_CANCELED -> "cancelled";
                case WORKFLOW_EXECUTION_STATUS_UNSPECIFIED -> "lost";
                default -> "failed";
            };
            if (outcome == null) {
                continue;
            }
            if (outcome.equals("lost")) {
                runs.markFailed(run.id(), LOST_RUN_REASON);
            } else if (outcome.equals("failed")) {
                runs.markFailed(run.id(), "the workflow ended as " + status.name()
                        .replace("WORKFLOW_EXECUTION_STATUS_", "").toLowerCase() + " while no worker recorded it");
            } else {
                runs.updateStatus(run.id(), outcome);
            }
            changed.add(run.id());
        }
        if (!changed.isEmpty()) {
            LOG.infof("reconciled %d run(s) with Temporal: %s", changed.size(), changed);
        }
        return changed;
    }

    /** UNSPECIFIED when Temporal has no such workflow. */
    private WorkflowExecutionStatus describe(String workflowId) {
        try {
            return stubs.blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                            .setNamespace(namespace)
                            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
                            .build())
                    .getWorkflowExecutionInfo().getStatus();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
            }
            throw e;
        }
    }
}
