package dev.anvil.api.models;

import dev.anvil.api.artifacts.Sha256Param;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.Artifact;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.inspect.InspectActivities;
import dev.anvil.workflows.inspect.InspectModelWorkflow;
import dev.anvil.workflows.inspect.InspectRequest;
import dev.anvil.workflows.inspect.ModelReport;
import io.smallrye.common.annotation.Blocking;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ActivityFailure;
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

/**
 * Starts an {@link InspectModelWorkflow} for an uploaded artifact. By default it waits for the result
 * (up to {@code anvil.api.inspect-wait}) and answers 200 with the report, or 422 when the file is not
 * a loadable ONNX model; {@code ?wait=false}, or a longer inspection, answers 202 with the run.
 */
@Path("/api/models/inspect")
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
    public Response inspect(InspectBody body, @QueryParam("wait") Boolean wait) {
        if (body == null || body.artifact() == null) {
            throw ProblemException.badRequest("artifact",
                    "the body must name the model: {\"artifact\": \"<sha256 from POST /api/artifacts>\"}");
        }
        String sha = Sha256Param.require("artifact", body.artifact());
        Artifact artifact = artifacts.find(sha).orElseThrow(() -> new ProblemException(404, "Not found",
                "no artifact with sha256 " + sha + "; upload the model with POST /api/artifacts first",
                List.of(new Problem.FieldError("artifact", "unknown artifact " + sha))));

        String runId = "inspect-" + UUID.randomUUID();
        runs.create(runId, InspectModelWorkflow.PIPELINE, "{\"artifact\":\"" + sha + "\"}", caller.name());
        InspectModelWorkflow workflow = client.newWorkflowStub(InspectModelWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(runId)
                .setTaskQueue(TaskQueues.CPU)
                // the whole run, retries included; a stuck run fails instead of waiting forever
                .setWorkflowExecutionTimeout(Duration.ofHours(1))
                .build());
        ArtifactRef ref = new ArtifactRef(artifact.uri(), artifact.sha256(), artifact.sizeBytes(), artifact.mediaType());
        try {
            WorkflowClient.start(workflow::inspect, new InspectRequest(ref, caller.name()));
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
        try {
            ModelReport report = stub.getResult(config.api().inspectWait().toMillis(), TimeUnit.MILLISECONDS, ModelReport.class);
            return Response.ok(Map.of("run", runId, "status", "success", "report", report)).location(location).build();
        } catch (TimeoutException e) {
            return Response.accepted(Map.of("run", runId, "status", "running")).location(location).build();
        } catch (WorkflowFailedException e) {
            if (e.getCause() instanceof ActivityFailure activity
                    && activity.getCause() instanceof ApplicationFailure app
                    && InspectActivities.INVALID_MODEL.equals(app.getType())) {
                throw new ProblemException(422, "Unprocessable content",
                        app.getOriginalMessage() + " (run " + runId + ")",
                        List.of(new Problem.FieldError("artifact", app.getOriginalMessage())));
            }
            throw new ProblemException(502, "Bad gateway", "run " + runId + " failed: " + rootMessage(e)
                    + "; GET " + location + " shows its state", List.of());
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof ApplicationFailure app ? app.getOriginalMessage() : String.valueOf(t.getMessage());
    }
}
