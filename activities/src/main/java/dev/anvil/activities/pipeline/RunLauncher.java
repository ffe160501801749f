package dev.anvil.activities.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
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
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.NoSuchElementException;

/**
 * Starts a run of a registered pipeline: loads its newest version, builds the plan, records the run
 * in PostgreSQL, then starts its workflow. Used by the REST API and by schedules alike.
 */
public class RunLauncher {
    /** A bound on a whole run, so a forgotten run does not wait forever. */
    static final Duration RUN_TIMEOUT = Duration.ofDays(7);
    /** How long a task waits on its queue for a worker unless told otherwise (ANVIL_SCHEDULE_TO_START_TIMEOUT). */
    public static final Duration DEFAULT_SCHEDULE_TO_START_TIMEOUT = Duration.ofMinutes(10);

    private final PipelineStore pipelines;
    private final PipelineRunStore runs;
    private final TaskRunStore taskRuns;
    private final WorkflowClient client;
    private final OperatorRegistry operators;
    private final ObjectMapper json;
    private final Duration scheduleToStartTimeout;

    public RunLauncher(PipelineStore pipelines, PipelineRunStore runs, TaskRunStore taskRuns, WorkflowClient client,
                       OperatorRegistry operators, ObjectMapper json) {
        this(pipelines, runs, taskRuns, client, operators, json, DEFAULT_SCHEDULE_TO_START_TIMEOUT);
    }

    /** @param scheduleToStartTimeout how long each task of a run may wait for a worker on its queue; 0: no limit */
    public RunLauncher(PipelineStore pipelines, PipelineRunStore runs, TaskRunStore taskRuns, WorkflowClient client,
                       OperatorRegistry operators, ObjectMapper json, Duration scheduleToStartTimeout) {
        this.scheduleToStartTimeout = scheduleToStartTimeout;
        this.pipelines = pipelines;
        this.runs = runs;
        this.taskRuns = taskRuns;
        this.client = client;
        this.operators = operators;
        this.json = json;
    }

    public record Started(String runId, int version) {}

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
        runs.create(runId, pipeline, latest.version(), toJson(plan.params()), submittedBy);
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(runId)
                .setTaskQueue(TaskQueues.CPU)
                .setWorkflowExecutionTimeout(RUN_TIMEOUT)
                .build());
        try {
            WorkflowClient.start(workflow::run, plan);
        } catch (WorkflowExecutionAlreadyStarted e) {
            // a retried start: the run is already going
        }
        return new Started(runId, latest.version());
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
        PipelineVersion version = pipelines.find(run.pipeline(), run.pipelineVersion()).orElseThrow();
        Map<String, Object> params = StoredJson.read(json, run.paramsJson());
        PipelineSpec spec = SpecLoader.load(version.spec(), operators, params.keySet());
        Dag dag = Dag.of(spec);
        if (fromTask != null && !spec.tasks().containsKey(fromTask)) {
            throw new IllegalArgumentException("pipeline '" + run.pipeline() + "' has no task '" + fromTask
                    + "'; its tasks are " + spec.tasks().keySet());
        }

        Map<String, TaskRun> latest = new LinkedHashMap<>();
        Map<String, Integer> attempts = new LinkedHashMap<>();
        for (TaskRun t : taskRuns.listByRun(runId)) {
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
        PipelinePlan plan = PlanBuilder.plan(spec, version.version(), operators, params, run.submittedBy())
                .asRetry(kept, attempts)
                .withScheduleToStartTimeout(scheduleToStartTimeout);
        runs.reopen(runId);
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(runId)
                .setTaskQueue(TaskQueues.CPU)
                .setWorkflowExecutionTimeout(RUN_TIMEOUT)
                .build());
        WorkflowClient.start(workflow::run, plan);
        return new Started(runId, version.version());
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
