package dev.anvil.activities.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.db.RunAdmissionStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.PlanBuilder;
import dev.anvil.workflows.pipeline.TaskState;
import dev.anvil.workflows.pipeline.spec.Dag;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.NoSuchElementException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a run of a registered pipeline: loads its newest version, builds the plan, records the run
 * in PostgreSQL, then starts its workflow. Used by the REST API, schedules and event triggers alike.
 * A pipeline with {@code max_active_runs} at its limit gets the run recorded queued without a workflow
 * ({@link RunAdmissionStore}); {@link #admitWaiting} starts such runs when slots free.
 */
public class RunLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(RunLauncher.class);
    /** A bound on a whole run, so a forgotten run does not wait forever. */
    static final Duration RUN_TIMEOUT = Duration.ofDays(7);
    /** How long a task waits on its queue for a worker unless told otherwise (ANVIL_SCHEDULE_TO_START_TIMEOUT). */
    public static final Duration DEFAULT_SCHEDULE_TO_START_TIMEOUT = Duration.ofMinutes(10);
    /** How long a retry waits for the run's previous execution to close (it ends just after recording the run). */
    static final Duration PREVIOUS_CLOSE_WAIT = Duration.ofSeconds(10);

    private final PipelineStore pipelines;
    private final PipelineRunStore runs;
    private final RunAdmissionStore admissions;
    private final TaskRunStore taskRuns;
    private final WorkflowClient client;
    private final OperatorRegistry operators;
    private final ObjectMapper json;
    private final Duration scheduleToStartTimeout;

    public RunLauncher(PipelineStore pipelines, PipelineRunStore runs, RunAdmissionStore admissions,
                       TaskRunStore taskRuns, WorkflowClient client, OperatorRegistry operators, ObjectMapper json) {
        this(pipelines, runs, admissions, taskRuns, client, operators, json, DEFAULT_SCHEDULE_TO_START_TIMEOUT);
    }

    /** @param scheduleToStartTimeout how long each task of a run may wait for a worker on its queue; 0: no limit */
    public RunLauncher(PipelineStore pipelines, PipelineRunStore runs, RunAdmissionStore admissions,
                       TaskRunStore taskRuns, WorkflowClient client, OperatorRegistry operators, ObjectMapper json,
                       Duration scheduleToStartTimeout) {
        this.scheduleToStartTimeout = scheduleToStartTimeout;
        this.pipelines = pipelines;
        this.runs = runs;
        this.admissions = admissions;
        this.taskRuns = taskRuns;
        this.client = client;
        this.operators = operators;
        this.json = json;
    }

    /**
     * @param waitingFor null when the run's workflow started; otherwise the pipeline's {@code max_active_runs}
     *                   it found reached: the run is queued and starts when a slot frees
     */
    public record Started(String runId, int version, Integer waitingFor) {
        public Started(String runId, int version) {
            this(runId, version, null);
        }

        public boolean waiting() {
            return waitingFor != null;
        }
    }

    /**
     * @param runId       the run's id; starting the same id twice starts one run (schedules rely on it)
     * @param logicalDate the schedule tick, or null for a run started by hand
     * @throws NoSuchElementException when no such pipeline is registered
     * @throws SpecException          when the params leave references unresolvable
     */
    public Started start(String pipeline, String runId, Map<String, Object> params, String submittedBy,
                         String logicalDate) throws SpecException {
        return start(pipeline, runId, params, submittedBy, logicalDate, true);
    }

    /** @param cache false turns step caching off for every task of this run */
    public Started start(String pipeline, String runId, Map<String, Object> params, String submittedBy,
                         String logicalDate, boolean cache) throws SpecException {
        return start(latest(pipeline), runId, params, submittedBy, logicalDate, cache);
    }

    /**
     * Starts the run of a schedule tick. Its requester, recorded as the run's submitter and compared by
     * the four-eyes rule, is {@code requestedBy} (who asked for a backfill or trigger) or, for a tick of
     * the schedule itself, the principal who registered the version it runs: the one who chose to run it.
     *
     * @throws IllegalStateException when the tick has no requester: the version predates recorded registrants
     */
    public Started startScheduled(String pipeline, String runId, String logicalDate, String requestedBy)
            throws SpecException {
        PipelineVersion latest = latest(pipeline);
        String requester = requestedBy != null ? requestedBy : latest.registeredBy();
        if (requester == null || requester.isBlank()) {
            throw new IllegalStateException("version " + latest.version() + " of pipeline '" + pipeline
                    + "' has no recorded registrant, so its scheduled runs would have no requester for the"
                    + " four-eyes rule; register the spec again with PUT /api/pipelines/" + pipeline);
        }
        return start(latest, runId, Map.of(), requester, logicalDate, true);
    }

    private PipelineVersion latest(String pipeline) {
        return pipelines.latest(pipeline).orElseThrow(() -> new NoSuchElementException(
                "no pipeline named '" + pipeline + "'; register it with PUT /api/pipelines/" + pipeline));
    }

    private Started start(PipelineVersion latest, String runId, Map<String, Object> params, String submittedBy,
                          String logicalDate, boolean cache) throws SpecException {
        String pipeline = latest.pipeline();
        PipelineSpec spec = SpecLoader.load(latest.spec(), operators, params.keySet());
        PipelinePlan plan = PlanBuilder.plan(spec, latest.version(), operators, params, submittedBy)
                .withLogicalDate(logicalDate)
                .withScheduleToStartTimeout(scheduleToStartTimeout);
        if (!cache) {
            plan = plan.withoutCache();
        }
        if (spec.maxActiveRuns() == null) {
            runs.create(runId, pipeline, latest.version(), toJson(plan.params()), submittedBy);
        } else {
            RunAdmissionStore.Admission admission = admissions.create(runId, pipeline, latest.version(),
                    toJson(plan.params()), submittedBy, spec.maxActiveRuns(), logicalDate, cache);
            if (!admission.admitted()) {
                LOG.info("run {} of pipeline '{}' waits: {} of max_active_runs {} active", runId, pipeline,
                        admission.active(), spec.maxActiveRuns());
                return new Started(runId, latest.version(), spec.maxActiveRuns());
            }
        }
        startWorkflow(runId, plan);
        return new Started(runId, latest.version());
    }

    private void startWorkflow(String runId, PipelinePlan plan) {
        startWorkflow(runId, plan, null);
    }

    /** A run's workflow: its id is the run's, on the CPU queue, bounded by {@link #RUN_TIMEOUT}. */
    private static WorkflowOptions.Builder runOptions(String runId) {
        return WorkflowOptions.newBuilder()
                .setWorkflowId(runId)
                .setTaskQueue(TaskQueues.CPU)
                .setWorkflowExecutionTimeout(RUN_TIMEOUT);
    }

    private void startWorkflow(String runId, PipelinePlan plan, WorkflowIdReusePolicy reuse) {
        WorkflowOptions.Builder options = runOptions(runId);
        if (reuse != null) {
            options.setWorkflowIdReusePolicy(reuse);
        }
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class, options.build());
        try {
            WorkflowClient.start(workflow::run, plan);
        } catch (WorkflowExecutionAlreadyStarted e) {
            // a retried start: the run is already going
        }
    }

    /**
     * Starts the runs that wait for a slot and now have one, oldest first, under each pipeline's newest
     * {@code max_active_runs} (a spec without it lets every waiting run start); first, runs admitted before
     * whose start was not confirmed (a process died in between). Safe to call from several processes at once:
     * admission happens under the pipeline's lock, and a start of a run already going is a no-op.
     *
     * @return the ids of the runs started
     */
    public List<String> admitWaiting() {
        List<String> started = new ArrayList<>();
        for (RunAdmissionStore.Waiting w : admissions.admittedNotStarted()) {
            startAdmitted(w, started);
        }
        for (String pipeline : admissions.pipelinesWithWaiting()) {
            for (RunAdmissionStore.Waiting w : admissions.admit(pipeline, currentLimit(pipeline))) {
                startAdmitted(w, started);
            }
        }
        return started;
    }

    /** As {@link #admitWaiting()}, for one pipeline: what a run of it that just ended calls. */
    public List<String> admitWaiting(String pipeline) {
        List<String> started = new ArrayList<>();
        for (RunAdmissionStore.Waiting w : admissions.admittedNotStarted()) {
            if (w.pipeline().equals(pipeline)) {
                startAdmitted(w, started);
            }
        }
        for (RunAdmissionStore.Waiting w : admissions.admit(pipeline, currentLimit(pipeline))) {
            startAdmitted(w, started);
        }
        return started;
    }

    /** The newest spec's bound; a spec that no longer reads keeps the bound the run was queued under. */
    private Integer currentLimit(String pipeline) {
        Optional<PipelineVersion> latest = pipelines.latest(pipeline);
        if (latest.isEmpty()) {
            return null; // the pipeline went: let its runs start, and fail there with the reason
        }
        try {
            return SpecLoader.load(latest.get().spec(), operators, Set.of()).maxActiveRuns();
        } catch (SpecException | RuntimeException e) {
            return admissions.queuedLimit(pipeline).orElse(null);
        }
    }

    private void startAdmitted(RunAdmissionStore.Waiting w, List<String> started) {
        PipelineRun run = runs.find(w.runId()).orElse(null);
        if (run == null || run.isTerminal()) {
            admissions.started(w.runId()); // cancelled or closed meanwhile: nothing to start
            return;
        }
        try {
            if (w.retry()) {
                startRetry(w.runId(), retryPlan(run, w.retryFrom()), run.reopenedAt());
                admissions.started(w.runId());
                started.add(w.runId());
                return;
            }
            PipelineVersion version = pipelines.find(run.pipeline(), run.pipelineVersion()).orElseThrow(
                    () -> new NoSuchElementException("version " + run.pipelineVersion() + " of pipeline '"
                            + run.pipeline() + "' is no longer registered"));
            Map<String, Object> params = StoredJson.read(json, run.paramsJson());
            PipelineSpec spec = SpecLoader.load(version.spec(), operators, params.keySet());
            PipelinePlan plan = PlanBuilder.plan(spec, version.version(), operators, params, run.submittedBy())
                    .withLogicalDate(w.logicalDate())
                    .withScheduleToStartTimeout(scheduleToStartTimeout);
            // never a second execution: another process may have started this run, and it may have ended already
            startWorkflow(w.runId(), w.cache() ? plan : plan.withoutCache(),
                    WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
        } catch (SpecException | NoSuchElementException | IllegalArgumentException bad) {
            // retrying will not help: the run ends with the reason instead of holding its slot
            runs.markFailed(w.runId(), "could not start after waiting for a slot: " + bad.getMessage());
            LOG.warn("run {} could not start after waiting for a slot: {}", w.runId(), bad.getMessage());
        }
        admissions.started(w.runId());
        started.add(w.runId());
    }

    /**
     * Retries a failed or cancelled run as a new attempt of the same run: the tasks to re-run are
     * {@code fromTask} and everything downstream of it, or, without one, every task that did not
     * succeed and everything downstream of those. The others keep their outputs and do not run.
     *
     * @throws IllegalArgumentException when {@code fromTask} is not a task of the run's pipeline
     * @throws IllegalStateException    when the run is not failed or cancelled
     */
    public Started retry(String runId, String fromTask) throws SpecException {
        PipelineRun run = runs.find(runId).orElseThrow(() -> new NoSuchElementException("no run with id '" + runId + "'"));
        if (!run.status().equals("failed") && !run.status().equals("cancelled")) {
            throw new IllegalStateException("run '" + runId + "' is " + run.status()
                    + "; only failed or cancelled runs can be retried");
        }
        if (run.pipelineVersion() == null) {
            throw new IllegalStateException("run '" + runId + "' is not a pipeline run (" + run.pipeline()
                    + "); start it again instead");
        }
        PipelinePlan plan = retryPlan(run, fromTask);
        // the bound admission applies, the newest spec's (as for every waiting run of the pipeline)
        Integer limit = currentLimit(run.pipeline());
        PipelineRun reopened;
        try {
            if (limit != null) {
                // Airflow's clear under max_active_runs: the run goes back to queued and starts when a slot is free
                RunAdmissionStore.Admission admission = admissions.reopenForRetry(runId, run.pipeline(), limit, fromTask);
                if (!admission.admitted()) {
                    LOG.info("retry of run {} of pipeline '{}' waits: {} of max_active_runs {} active", runId,
                            run.pipeline(), admission.active(), limit);
                    return new Started(runId, plan.pipelineVersion(), limit);
                }
                reopened = admission.run();
            } else {
                reopened = runs.reopen(runId);
            }
        } catch (DataAccessException e) {
            if (e.isBadInput()) {
                throw new IllegalStateException(e.getMessage(), e); // retried at once by another caller
            }
            throw e;
        }
        startRetry(runId, plan, reopened.reopenedAt());
        return new Started(runId, plan.pipelineVersion());
    }

    /**
     * The plan of a retry: {@code fromTask} and everything downstream of it run again, or, without one, every task
     * that did not succeed and everything downstream of those; the others keep their outputs.
     */
    private PipelinePlan retryPlan(PipelineRun run, String fromTask) throws SpecException {
        PipelineVersion version = pipelines.find(run.pipeline(), run.pipelineVersion()).orElseThrow(
                () -> new NoSuchElementException("version " + run.pipelineVersion() + " of pipeline '"
                        + run.pipeline() + "' is no longer registered"));
        Map<String, Object> params = StoredJson.read(json, run.paramsJson());
        PipelineSpec spec = SpecLoader.load(version.spec(), operators, params.keySet());
        Dag dag = Dag.of(spec);
        if (fromTask != null && !spec.tasks().containsKey(fromTask)) {
            throw new IllegalArgumentException("pipeline '" + run.pipeline() + "' has no task '" + fromTask
                    + "'; its tasks are " + spec.tasks().keySet());
        }

        Map<String, TaskRun> latest = new LinkedHashMap<>();
        Map<String, Integer> attempts = new LinkedHashMap<>();
        for (TaskRun t : taskRuns.listByRun(run.id())) {
            attempts.merge(t.taskId(), t.attempt(), Math::max);
            latest.merge(t.taskId(), t, (a, b) -> b.attempt() >= a.attempt() ? b : a);
        }
        Set<String> rerun = new LinkedHashSet<>();
        if (fromTask != null) {
            rerun.addAll(dag.downstreamClosure(fromTask));
        } else {
            for (String task : spec.tasks().keySet()) {
                TaskRun last = latest.get(task);
                if (last == null || !last.status().equals("success")) {
                    rerun.addAll(dag.downstreamClosure(task));
                }
            }
        }
        Map<String, TaskState> kept = new LinkedHashMap<>();
        for (String task : spec.tasks().keySet()) {
            TaskRun last = latest.get(task);
            if (!rerun.contains(task) && last != null && last.status().equals("success")) {
                kept.put(task, new TaskState(task, TaskState.SUCCESS, StoredJson.read(json, last.metricsJson()), null,
                        last.startedAt() == null ? null : last.startedAt().toEpochMilli(),
                        last.finishedAt() == null ? null : last.finishedAt().toEpochMilli()));
            }
        }
        return PlanBuilder.plan(spec, version.version(), operators, params, run.submittedBy())
                .asRetry(kept, attempts)
                .withScheduleToStartTimeout(scheduleToStartTimeout);
    }

    /**
     * Starts the workflow of the retry the run was reopened for at {@code reopenedAt}, under the run's id: a new
     * execution after the one that ended (a failed run's workflow completes, so the id allows any earlier end), with
     * the reopen in its memo. Started once: where the newest execution already is this retry's (another process
     * started it; it may have ended), nothing is started. Where the previous execution is still closing (a retry asked
     * for the moment the run was recorded failed), it waits for it, up to {@link #PREVIOUS_CLOSE_WAIT}.
     *
     * @throws IllegalStateException when the previous execution did not close in that time
     */
    private void startRetry(String runId, PipelinePlan plan, java.time.Instant reopenedAt) {
        WorkflowOptions options = runOptions(runId)
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
                .setMemo(RunExecutions.memo(reopenedAt))
                .build();
        long deadline = System.nanoTime() + PREVIOUS_CLOSE_WAIT.toNanos();
        while (true) {
            Optional<RunExecutions.Latest> latest = RunExecutions.describe(client.getWorkflowServiceStubs(),
                    client.getOptions().getNamespace(), runId);
            if (latest.isPresent() && latest.get().startedFor(reopenedAt)) {
                return;
            }
            if (latest.isEmpty() || !latest.get().running()) {
                try {
                    WorkflowClient.start(client.newWorkflowStub(PipelineWorkflow.class, options)::run, plan);
                    return;
                } catch (WorkflowExecutionAlreadyStarted e) {
                    // started meanwhile (another process, or the previous one is back): look again
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("run '" + runId + "': its previous workflow has not closed yet, so the"
                        + " retry cannot start; retry again in a moment");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the retry of run '" + runId + "'", e);
            }
        }
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
