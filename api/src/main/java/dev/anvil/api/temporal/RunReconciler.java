package dev.anvil.api.temporal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.pipeline.RunExecutions;
import dev.anvil.db.Approval;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.db.TrafficChange;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Squares what PostgreSQL says is in flight with what Temporal knows, at start-up and then every
 * minute or so ({@code anvil.temporal.reconcile-interval}). A crash (kill -9 of a worker, a restart of
 * the local dev server, which keeps workflows in memory only) leaves rows that nobody will close:
 * <ul>
 *   <li>runs PostgreSQL shows running with no workflow behind it are marked failed with a reason a
 *       person can act on; runs Temporal closed while nobody wrote their state are brought up to date;</li>
 *   <li>task attempts still recorded running or queued in runs that have ended are closed as failed,
 *       naming the run's end;</li>
 *   <li>approvals still pending in runs that have ended are expired with that reason (no reviewer can
 *       decide them any more);</li>
 *   <li>rollouts running or paused whose workflow failed or is gone end failed with a reason, and their
 *       canary leaves the endpoint (traffic back on stable) through the audited traffic path.</li>
 * </ul>
 * Each step is one conditional update, so two processes reconciling at once change each row once.
 * Keep one instance per process: it remembers which queued runs Temporal did not know at its last pass.
 */
public class RunReconciler {
    static final String LOST_RUN_REASON =
            "the local Temporal service restarted and lost this run; retry the run";
    static final String RETRY_NOT_STARTED_REASON =
            "the retry's workflow never started (Temporal refused it, or the process stopped first); retry the run again";
    static final String SYSTEM = "anvil";
    private static final Logger LOG = Logger.getLogger(RunReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one pass changed: run ids, task-run ids, approval ids and rollout ids. */
    public record Reconciled(List<String> runs, List<Long> tasks, List<String> approvals, List<String> rollouts) {
        public boolean isEmpty() {
            return runs.isEmpty() && tasks.isEmpty() && approvals.isEmpty() && rollouts.isEmpty();
        }
    }

    private final PipelineRunStore runs;
    private final TaskRunStore tasks;
    private final ApprovalStore approvals;
    private final RolloutStore rollouts;
    private final EndpointStore endpoints;
    private final AuditLogStore audit;
    private final WorkflowServiceStubs stubs;
    private final String namespace;
    /**
     * Queued runs Temporal did not know at the last pass. After the first pass (start-up, when this
     * process launches nothing yet) a queued run must be unknown twice, a pass apart, to count as lost.
     */
    private Set<String> unknownQueued = new HashSet<>();
    private boolean firstPass = true;

    public RunReconciler(PipelineRunStore runs, TaskRunStore tasks, ApprovalStore approvals, RolloutStore rollouts,
                         EndpointStore endpoints, AuditLogStore audit, WorkflowServiceStubs stubs, String namespace) {
        this.runs = runs;
        this.tasks = tasks;
        this.approvals = approvals;
        this.rollouts = rollouts;
        this.endpoints = endpoints;
        this.audit = audit;
        this.stubs = stubs;
        this.namespace = namespace;
    }

    public Reconciled reconcile() {
        List<String> changedRuns = reconcileRuns();
        // after the runs: a run just marked failed closes its attempts and approvals in this same pass
        List<Long> closedTasks = tasks.closeOrphans().stream().map(TaskRun::id).toList();
        List<String> expired = new ArrayList<>();
        for (Approval approval : approvals.expireOrphans()) {
            audit.append(SYSTEM, "approval.expired", "run:" + approval.runId(), json("approval", approval.id(),
                    "task", approval.taskId(), "reason", approval.reason()), approval.id() + "/reconciled");
            expired.add(approval.id());
        }
        List<String> failedRollouts = reconcileRollouts();
        firstPass = false;
        Reconciled done = new Reconciled(changedRuns, closedTasks, expired, failedRollouts);
        if (!done.isEmpty()) {
            LOG.infof("reconciled with Temporal: runs %s, task attempts %s, approvals %s, rollouts %s",
                    changedRuns, closedTasks, expired, failedRollouts);
        }
        return done;
    }

    private List<String> reconcileRuns() {
        List<PipelineRun> inFlight = new ArrayList<>(runs.listByStatus("queued"));
        inFlight.addAll(runs.listByStatus("running"));
        List<String> changed = new ArrayList<>();
        Set<String> unknownBefore = unknownQueued;
        unknownQueued = new HashSet<>();
        for (PipelineRun run : inFlight) {
            Optional<RunExecutions.Latest> latest = RunExecutions.describe(stubs, namespace, run.id());
            WorkflowExecutionStatus status = latest.map(RunExecutions.Latest::status)
                    .orElse(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED);
            // a run reopened for a retry: Temporal still holds the execution that ended; until the retry's own
            // execution (its memo names this reopen) exists, the retry has not started
            boolean retryNotStarted = run.status().equals("queued") && run.reopenedAt() != null
                    && latest.isPresent() && !latest.get().startedFor(run.reopenedAt());
            if (retryNotStarted) {
                status = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
            }
            if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED && run.status().equals("queued")
                    && !firstPass && !unknownBefore.contains(run.id())) {
                // a run is recorded queued just before its workflow starts: lost only if still unknown next pass
                unknownQueued.add(run.id());
                continue;
            }
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
                runs.markFailed(run.id(), retryNotStarted ? RETRY_NOT_STARTED_REASON : LOST_RUN_REASON);
            } else if (outcome.equals("failed")) {
                runs.markFailed(run.id(), "the workflow ended as " + name(status) + " while no worker recorded it");
            } else {
                runs.updateStatus(run.id(), outcome);
            }
            changed.add(run.id());
        }
        return changed;
    }

    /** A rollout's workflow id is its id; one that is not running leaves nothing to manage the canary. */
    private List<String> reconcileRollouts() {
        List<String> failed = new ArrayList<>();
        for (Rollout rollout : rollouts.listActive()) {
            WorkflowExecutionStatus status = RunExecutions.describe(stubs, namespace, rollout.id())
                    .map(RunExecutions.Latest::status).orElse(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED);
            if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
                continue;
            }
            String reason = (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
                    ? "its workflow is gone (the local Temporal service restarted and lost it)"
                    : "its workflow ended " + name(status) + " without finishing the rollout")
                    + "; the canary was removed and all traffic is back on the stable version";
            if (rollouts.fail(rollout.id(), reason).isEmpty()) {
                continue; // finished meanwhile by its own workflow
            }
            try {
                endpoints.removeCanary(rollout.endpoint(), TrafficChange.forRollout(rollout.id(), SYSTEM, reason));
            } catch (DataAccessException e) {
                if (!e.isBadInput()) {
                    throw e;
                }
                // the endpoint was deleted: no traffic to send back
            }
            audit.append(SYSTEM, "rollout.failed", "endpoint:" + rollout.endpoint(),
                    json("rollout", rollout.id(), "reason", reason), rollout.id() + ":failed");
            failed.add(rollout.id());
        }
        return failed;
    }

    private static String name(WorkflowExecutionStatus status) {
        return status.name().replace("WORKFLOW_EXECUTION_STATUS_", "").toLowerCase().replace('_', ' ');
    }

    /** Audit details: a JSON object of the given name-value pairs (null values left out). */
    private static String json(String... pairs) {
        Map<String, String> details = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i + 1] != null) {
                details.put(pairs[i], pairs[i + 1]);
            }
        }
        try {
            return JSON.writeValueAsString(details);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("strings always serialise to JSON", e);
        }
    }
}
