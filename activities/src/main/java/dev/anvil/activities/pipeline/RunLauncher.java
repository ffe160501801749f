package dev.anvil.activities.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.PipelinePlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.PlanBuilder;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Starts a run of a registered pipeline: loads its newest version, builds the plan, records the run
 * in PostgreSQL, then starts its workflow. Used by the REST API and by schedules alike.
 */
public class RunLauncher {
    /** A bound on a whole run, so a forgotten run does not wait forever. */
    static final Duration RUN_TIMEOUT = Duration.ofDays(7);

    private final PipelineStore pipelines;
    private final PipelineRunStore runs;
    private final WorkflowClient client;
    private final OperatorRegistry operators;
    private final ObjectMapper json;

    public RunLauncher(PipelineStore pipelines, PipelineRunStore runs, WorkflowClient client,
                       OperatorRegistry operators, ObjectMapper json) {
        this.pipelines = pipelines;
        this.runs = runs;
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
        PipelineVersion latest = pipelines.latest(pipeline).orElseThrow(() -> new NoSuchElementException(
                "no pipeline named '" + pipeline + "'; register it with PUT /api/pipelines/" + pipeline));
        PipelineSpec spec = SpecLoader.load(latest.spec(), operators, params.keySet());
        PipelinePlan plan = PlanBuilder.plan(spec, latest.version(), operators, params, submittedBy)
                .withLogicalDate(logicalDate);
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

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
