package dev.anvil.api.models;

import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.artifacts.Sha256Param;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.inspect.InspectPlan;
import dev.anvil.workflows.pipeline.PipelineWorkflow;
import dev.anvil.workflows.pipeline.RunState;
import dev.anvil.workflows.pipeline.TaskActivities;
import dev.anvil.workflows.pipeline.TaskState;
import io.smallrye.common.annotation.Blocking;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Starts a one-task inspect run ({@link InspectPlan}, the {@code inspect} operator in a pipeline run, recorded as
 * any task is) for an uploaded artifact. By default it waits for the result
 * (up to {@code anvil.api.inspect-wait}) and answers 200 with the report, or 422 when the file is not
 * a loadable ONNX model; {@code ?wait=false}, or a longer inspection, answers 202 with the run.
 */
@Path("/api/models/inspect")
@Tag(name = "models")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Blocking
public class InspectModelResource {
    @Inject CurrentCaller caller;

    public record InspectBody(String artifact) {}

    @Inject ArtifactStore artifacts;
    @Inject PipelineRunStore runs;
    @Inject WorkflowClient client;
    @Inject AnvilConfig config;

    @POST
    @RolesAllowed({Roles.SUBMITTER, Roles.ADMIN})
    @Operation(summary = "Inspect an uploaded ONNX model in a durable workflow (role submitter or admin)",
            description = "Starts a run whose one task loads the model in ONNX Runtime and records opset, IR version, "
                    + "inputs/outputs, parameter count (control-flow sub-graphs included: both If branches count, as both "
                    + "are stored) and size as task-run metrics, with lineage, and lists warnings with their fixes "
                    + "(e.g. a node using an operator domain the model does not import). Waits for the result "
                    + "(up to anvil.api.inspect-wait) unless wait=false.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = InspectBody.class), examples = @ExampleObject(name = "model",
            value = "{\"artifact\": \"<sha256 from POST /api/artifacts>\"}")))
    @APIResponse(responseCode = "200", description = "run, status success and the report; Location is the run")
    @APIResponse(responseCode = "202", description = "the run is still going (or wait=false): run and status; GET the Location")
    @APIResponse(responseCode = "400", description = "no artifact in the body, or it is not a sha256")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role submitter or admin")
    @APIResponse(responseCode = "404", description = "no artifact with this sha256")
    @APIResponse(responseCode = "422", description = "the artifact is not a loadable ONNX model")
    @APIResponse(responseCode = "502", description = "the inspection run failed otherwise; the run shows why")
    @APIResponse(responseCode = "503", description = "Temporal did not accept the run")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Response inspect(InspectBody body,
                            @Parameter(description = "false: answer 202 at once instead of waiting for the report",
                                    schema = @Schema(defaultValue = "true")) @QueryParam("wait") Boolean wait) {
        if (body == null || body.artifact() == null) {
            throw ProblemException.badRequest("artifact",
                    "the body must name the model: {\"artifact\": \"<sha256 from POST /api/artifacts>\"}");
        }
        String sha = Sha256Param.require("artifact", body.artifact());
        Artifact artifact = artifacts.find(sha).orElseThrow(() -> new ProblemException(404, "Not found",
                "no artifact with sha256 " + sha + "; upload the model with POST /api/artifacts first",
                List.of(new Problem.FieldError("artifact", "unknown artifact " + sha))));

        String runId = "inspect-" + UUID.randomUUID();
        runs.create(runId, InspectPlan.PIPELINE, "{\"artifact\":\"" + sha + "\"}", caller.name());
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(runId)
                .setTaskQueue(TaskQueues.CPU)
                // the whole run, retries included; a stuck run fails instead of waiting forever
                .setWorkflowExecutionTimeout(Duration.ofHours(1))
                .build());
        try {
            WorkflowClient.start(workflow::run, InspectPlan.of(artifact.sha256(), caller.name())
                    .withScheduleToStartTimeout(config.scheduleToStartTimeout()));
        } catch (RuntimeException e) {
            runs.markFailed(runId, "could not start the workflow: " + e.getMessage());
            throw new ProblemException(503, "Service unavailable",
                    "Temporal did not accept the run (" + e.getMessage() + "); check /q/health/ready and retry", List.of());
        }

        URI location = URI.create("/api/runs/" + runId);
        if (Boolean.FALSE.equals(wait)) {
            return Response.accepted(Map.of("run", runId, "status", "queued")).location(location).build();
        }
        WorkflowStub stub = WorkflowStub.fromTyped(workflow);
        RunState ended;
        try {
            ended = stub.getResult(config.api().inspectWait().toMillis(), TimeUnit.MILLISECONDS, RunState.class);
        } catch (TimeoutException e) {
            return Response.accepted(Map.of("run", runId, "status", "running")).location(location).build();
        } catch (WorkflowFailedException e) {
            throw new ProblemException(502, "Bad gateway", "run " + runId + " failed: " + rootMessage(e)
                    + "; GET " + location + " shows its state", List.of());
        }
        TaskState task = ended.tasks().get(0);
        if (TaskState.SUCCESS.equals(task.status())) {
            return Response.ok(Map.of("run", runId, "status", "success", "report", task.outputs().get("report")))
                    .location(location).build();
        }
        if (refusedAsBadInput(runId)) {
            // the operator refused the artifact itself (it was given nothing else): not a loadable ONNX model
            throw new ProblemException(422, "Unprocessable content", task.error() + " (run " + runId + ")",
                    List.of(new Problem.FieldError("artifact", task.error())));
        }
        throw new ProblemException(502, "Bad gateway", "run " + runId + " failed: " + task.error()
                + "; GET " + location + " shows its state", List.of());
    }

    /** Whether the run's task failed as bad input (not retried), as its history records the activity's failure. */
    private boolean refusedAsBadInput(String runId) {
        for (HistoryEvent event : client.fetchHistory(runId).getEvents()) {
            if (event.hasActivityTaskFailedEventAttributes()) {
                Failure failure = event.getActivityTaskFailedEventAttributes().getFailure();
                if (failure.hasApplicationFailureInfo()
                        && TaskActivities.INVALID_INPUT.equals(failure.getApplicationFailureInfo().getType())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof ApplicationFailure app ? app.getOriginalMessage() : String.valueOf(t.getMessage());
    }
}
