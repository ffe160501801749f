package dev.anvil.api.pipelines;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.api.problem.Problem;
import dev.anvil.api.problem.ProblemException;
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
import io.smallrye.common.annotation.Blocking;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Pipelines: register a spec (each changed text is a new version), read them, and start runs. A
 * spec is validated in full before it is stored; every problem comes back at once, each naming the
 * task and field.
 */
@Path("/api/pipelines")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class PipelineResource {
    private static final OperatorRegistry OPERATORS = OperatorRegistry.builtIns();

    public record RunRequest(Map<String, Object> params) {}

    @Inject PipelineStore pipelines;
    @Inject PipelineRunStore runs;
    @Inject WorkflowClient client;
    @Inject ObjectMapper json;

    @PUT
    @Path("/{name}")
    @Consumes({"application/yaml", "application/x-yaml", "text/yaml", MediaType.APPLICATION_JSON, MediaType.TEXT_PLAIN})
    public Response register(@PathParam("name") String name, String body) {
        if (body == null || body.isBlank()) {
            throw ProblemException.badRequest("body", "the body must be a pipeline spec in YAML or JSON (see /api/schemas/pipeline.json)");
        }
        PipelineSpec spec = load(body, java.util.Set.of());
        if (!spec.name().equals(name)) {
            throw ProblemException.badRequest("pipeline", "the spec is named '" + spec.name() + "' but was sent to /api/pipelines/"
                    + name + "; use the same name in both");
        }
        PipelineVersion before = pipelines.latest(name).orElse(null);
        PipelineVersion version = pipelines.register(name, body);
        boolean created = before == null || before.version() != version.version();
        return Response.status(created ? 201 : 200).entity(view(version, spec)).build();
    }

    @GET
    public List<Map<String, Object>> list() {
        return pipelines.listLatest().stream().map(v -> view(v, null)).toList();
    }

    @GET
    @Path("/{name}")
    public Map<String, Object> get(@PathParam("name") String name) {
        PipelineVersion latest = find(name);
        Map<String, Object> view = view(latest, load(latest.spec(), java.util.Set.of()));
        view.put("versions", pipelines.versions(name).stream().map(PipelineVersion::version).toList());
        return view;
    }

    @POST
    @Path("/{name}/runs")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response startRun(@PathParam("name") String name, RunRequest request) {
        PipelineVersion latest = find(name);
        Map<String, Object> params = request == null || request.params() == null ? Map.of() : request.params();
        PipelineSpec spec = load(latest.spec(), params.keySet());
        PipelinePlan plan = PlanBuilder.plan(spec, latest.version(), OPERATORS, params, "anonymous");

        String runId = name + "-" + UUID.randomUUID();
        runs.create(runId, name, latest.version(), toJson(plan.params()), "anonymous");
        PipelineWorkflow workflow = client.newWorkflowStub(PipelineWorkflow.class, WorkflowOptions.newBuilder()
                .setWorkflowId(runId)
                .setTaskQueue(TaskQueues.CPU)
                // a bound on the whole run, so a forgotten run does not wait forever
                .setWorkflowExecutionTimeout(Duration.ofDays(7))
                .build());
        try {
            WorkflowClient.start(workflow::run, plan);
        } catch (RuntimeException e) {
            runs.markFailed(runId, "could not start the workflow: " + e.getMessage());
            throw new ProblemException(503, "Service unavailable",
                    "Temporal did not accept the run (" + e.getMessage() + "); check /q/health/ready and retry", List.of());
        }
        return Response.created(URI.create("/api/runs/" + runId))
                .entity(Map.of("run", runId, "pipeline", name, "version", latest.version(), "status", "queued"))
                .build();
    }

    private PipelineVersion find(String name) {
        return pipelines.latest(name).orElseThrow(() -> ProblemException.notFound(
                "no pipeline named '" + name + "'; register it with PUT /api/pipelines/" + name));
    }

    private static PipelineSpec load(String text, java.util.Set<String> runtimeParams) {
        try {
            return SpecLoader.load(text, OPERATORS, runtimeParams);
        } catch (SpecException e) {
            List<Problem.FieldError> errors = e.errors().stream()
                    .map(err -> new Problem.FieldError(err.path(), err.message())).toList();
            throw new ProblemException(422, "Invalid pipeline spec", errors.size() + " problem(s) in the spec: "
                    + errors.get(0).field() + ": " + errors.get(0).message()
                    + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more in 'errors')" : ""), errors);
        }
    }

    private static Map<String, Object> view(PipelineVersion v, PipelineSpec spec) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", v.pipeline());
        view.put("version", v.version());
        view.put("paused", v.paused());
        view.put("registeredAt", v.createdAt().toString());
        if (spec != null) {
            view.put("description", spec.description());
            view.put("schedule", spec.schedule().map(s -> s.expression()).orElse(null));
            view.put("tasks", List.copyOf(spec.tasks().keySet()));
        }
        view.put("spec", v.spec());
        return view;
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
