package dev.anvil.api.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.external.ExternalCompletion;
import dev.anvil.activities.external.ExternalTaskException;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.ExternalTaskStore.ExternalTask;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Callbacks of external training services (the {@code external} operator, docs/external-training.md). The token in
 * the path is the credential: 256 random bits Anvil sent with one job, good for that one attempt, ended by the
 * first complete or fail. A service has no Anvil identity and sends no Authorization header; what it does is
 * audited in the name {@code trainer:<service>}.
 */
@Path("/api/tasks/{token}")
@Tag(name = "tasks")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class TaskCallbackResource {
    private static final int MAX_REASON = 2000;

    @Inject ExternalCompletion completion;
    @Inject AuditLogStore audit;
    @Inject ObjectMapper json;

    @POST
    @PermitAll
    @Path("/heartbeat")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Report an external task's progress", description = "Any JSON (e.g. {\"epoch\": 3, "
            + "\"loss\": 0.21}) becomes the attempt's heartbeat details; a heartbeat must come within the task's "
            + "heartbeat_timeout or the attempt is retried with a new job and token.")
    @APIResponse(responseCode = "200", description = "recorded")
    @APIResponse(responseCode = "400", description = "the body is not JSON")
    @APIResponse(responseCode = "404", description = "no external task has this token")
    @APIResponse(responseCode = "409", description = "the task already ended, or Temporal gave up on this attempt")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Map<String, Object> heartbeat(@Parameter(description = "the token of the job") @PathParam("token") String token,
                                         byte[] body) {
        Object progress = body == null || body.length == 0 ? null : parse(body);
        try {
            completion.heartbeat(token, progress);
        } catch (ExternalTaskException e) {
            throw problem(e);
        }
        return Map.of("state", "waiting");
    }

    @POST
    @PermitAll
    @Path("/complete")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Complete an external task with its uploaded model", description = "After the model was PUT "
            + "to the job's upload URL: Anvil stores it by sha256 as the task's model output (with lineage and "
            + "provenance) and the run goes on. Optional body: {\"metrics\": {...}}, kept as the task's metrics output.")
    @APIResponse(responseCode = "200", description = "completed; the body names the model artifact")
    @APIResponse(responseCode = "400", description = "the body is not a JSON object, or metrics is not an object")
    @APIResponse(responseCode = "404", description = "no external task has this token")
    @APIResponse(responseCode = "409", description = "the token was used already, or Temporal gave up on this attempt")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    @APIResponse(responseCode = "422", description = "no model was uploaded; the task stays open")
    public Map<String, Object> complete(@Parameter(description = "the token of the job") @PathParam("token") String token,
                                        byte[] body) throws IOException {
        Map<String, Object> fields = object(body);
        Object metrics = fields.get("metrics");
        if (metrics != null && !(metrics instanceof Map)) {
            throw ProblemException.badRequest("metrics", "metrics must be a JSON object, e.g. {\"accuracy\": 0.97}");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> metricsMap = (Map<String, Object>) metrics;
        ExternalTask task;
        try {
            task = completion.complete(token, metricsMap);
        } catch (ExternalTaskException e) {
            throw problem(e);
        }
        record(task, "external_task.completed", null);
        return Map.of("state", "completed", "run", task.runId(), "task", task.taskId(), "attempt", task.attempt());
    }

    @POST
    @PermitAll
    @Path("/fail")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Fail an external task", description = "Body {\"reason\": \"...\"}: the task fails with "
            + "this reason and is not retried.")
    @APIResponse(responseCode = "200", description = "failed")
    @APIResponse(responseCode = "400", description = "no reason given, or one over 2000 characters")
    @APIResponse(responseCode = "404", description = "no external task has this token")
    @APIResponse(responseCode = "409", description = "the token was used already, or Temporal gave up on this attempt")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Map<String, Object> fail(@Parameter(description = "the token of the job") @PathParam("token") String token,
                                    byte[] body) {
        Object reason = object(body).get("reason");
        if (!(reason instanceof String text) || text.isBlank() || text.length() > MAX_REASON) {
            throw ProblemException.badRequest("reason", "send {\"reason\": \"...\"}, a non-empty text of at most "
                    + MAX_REASON + " characters saying why training failed");
        }
        ExternalTask task;
        try {
            task = completion.fail(token, text.strip());
        } catch (ExternalTaskException e) {
            throw problem(e);
        }
        record(task, "external_task.failed", text.strip());
        return Map.of("state", "failed", "run", task.runId(), "task", task.taskId(), "attempt", task.attempt());
    }

    private void record(ExternalTask task, String action, String reason) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("run", task.runId());
        details.put("task", task.taskId());
        details.put("attempt", task.attempt());
        if (reason != null) {
            details.put("reason", reason);
        }
        try {
            audit.append("trainer:" + task.service(), action, "run:" + task.runId(), json.writeValueAsString(details), null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("audit details are not JSON", e);
        }
    }

    private Object parse(byte[] body) {
        try {
            return json.readValue(body, Object.class);
        } catch (IOException e) {
            throw ProblemException.badRequest("body", "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> object(byte[] body) {
        if (body == null || body.length == 0) {
            return Map.of();
        }
        Object parsed = parse(body);
        if (!(parsed instanceof Map)) {
            throw ProblemException.badRequest("body", "the body must be a JSON object");
        }
        return (Map<String, Object>) parsed;
    }

    private static ProblemException problem(ExternalTaskException e) {
        return switch (e.status()) {
            case 404 -> ProblemException.notFound(e.getMessage());
            case 422 -> ProblemException.unprocessable("model", e.getMessage());
            default -> new ProblemException(e.status(), "Conflict", e.getMessage(), List.of());
        };
    }
}
