package dev.anvil.api.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.tasklog.AttemptLog;
import dev.anvil.activities.tasklog.TaskLogs;
import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * A task attempt's own log, as its worker captured it (NDJSON lines of timestamp, level, event, logger), from
 * a byte offset on, so a client tails a running task by asking again from {@code X-Log-Offset}.
 */
@Path("/api/runs/{id}/tasks/{task}/logs")
@Tag(name = "runs")
@Blocking
public class TaskLogResource {
    public static final String NDJSON = "application/x-ndjson";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject ObjectStore objects;

    @GET
    @Produces({MediaType.TEXT_PLAIN, NDJSON})
    @RolesAllowed(Roles.VIEWER)
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @Operation(summary = "A task attempt's log, from a byte offset", description = "The lines the attempt's"
            + " operator wrote (a command's stdout and stderr included), stored by its worker every few seconds"
            + " while it runs. format=ndjson gives the stored lines, format=text one line each as"
            + " 'timestamp level [logger] event'. The answer's X-Log-Offset header is where to ask from next;"
            + " X-Log-Complete is true once the attempt has ended.")
    @APIResponse(responseCode = "200", description = "the log from the offset on (empty when nothing new)")
    @APIResponse(responseCode = "400", description = "negative offset, try below 1 or an unknown format")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role viewer (every role but invoker has it)")
    @APIResponse(responseCode = "404", description = "no such run, task or try, or the try kept no log")
    public Response log(@Parameter(description = "the run's id") @PathParam("id") String id,
                        @Parameter(description = "the task's id") @PathParam("task") String task,
                        @Parameter(description = "the try (attempt) number; the newest when left out") @QueryParam("try") Integer tryNumber,
                        @Parameter(description = "byte offset to read from (X-Log-Offset of the last answer)") @QueryParam("offset") @DefaultValue("0") long offset,
                        @Parameter(description = "text (default) or ndjson") @QueryParam("format") @DefaultValue("text") String format) {
        if (offset < 0) {
            throw ProblemException.badRequest("offset", "'offset' is a byte offset from 0, got " + offset);
        }
        if (!format.equals("text") && !format.equals("ndjson")) {
            throw ProblemException.badRequest("format", "unknown format '" + format + "'; expected text or ndjson");
        }
        if (tryNumber != null && tryNumber < 1) {
            throw ProblemException.badRequest("try", "tries count from 1, got " + tryNumber);
        }
        runs.find(id).orElseThrow(() -> ProblemException.notFound("no run with id '" + id + "'"));
        List<TaskRun> attempts = taskRuns.listByRun(id).stream().filter(t -> t.taskId().equals(task)).toList();
        if (attempts.isEmpty()) {
            throw ProblemException.notFound("run '" + id + "' has no attempt of task '" + task + "' yet");
        }
        TaskRun attempt = tryNumber == null
                ? attempts.stream().max(java.util.Comparator.comparingInt(TaskRun::attempt)).orElseThrow()
                : attempts.stream().filter(t -> t.attempt() == tryNumber).findFirst().orElseThrow(() ->
                        ProblemException.notFound("task '" + task + "' of run '" + id + "' has no try " + tryNumber
                                + "; its tries are " + attempts.stream().map(TaskRun::attempt).sorted().toList()));
        ObjectStore.LogSlice slice = read(objects, id, task, attempt.attempt(), offset).orElseThrow(() ->
                ProblemException.notFound("try " + attempt.attempt() + " of task '" + task + "' kept no log (it ran"
                        + " on a worker without task logs, or has not written its first lines yet)"));
        // a partial last line (none are written, but a reader may cut one at an offset it chose) is left for next time
        byte[] bytes = slice.bytes();
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        String body = new String(bytes, 0, end, StandardCharsets.UTF_8);
        return Response.ok(format.equals("ndjson") ? body : text(body),
                        format.equals("ndjson") ? NDJSON : MediaType.TEXT_PLAIN + ";charset=UTF-8")
                .header("X-Log-Offset", Math.min(offset, slice.size()) + end)
                .header("X-Log-Complete", attempt.finishedAt() != null)
                .header("X-Log-Try", attempt.attempt())
                .build();
    }

    /** The stored log of a try from an offset; empty when that try kept none. */
    public static Optional<ObjectStore.LogSlice> read(ObjectStore objects, String runId, String taskId, int attempt,
                                                      long offset) {
        try {
            return objects.readLog(TaskLogs.name(runId, taskId, attempt), offset);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("reading the log of try " + attempt + " of task " + taskId
                    + " failed: " + e.getMessage(), e);
        }
    }

    /** NDJSON log lines as 'timestamp level [logger] event' text lines. */
    static String text(String ndjson) {
        StringBuilder out = new StringBuilder();
        for (String line : ndjson.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode n = JSON.readTree(line);
                out.append(n.path("timestamp").asText()).append(' ').append(n.path("level").asText().toUpperCase())
                        .append(" [").append(n.path("logger").asText()).append("] ").append(n.path("event").asText())
                        .append('\n');
            } catch (IOException e) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    static {
        // keeps the media type the worker writes and the one served here the same
        assert AttemptLog.MEDIA_TYPE.equals(NDJSON);
    }
}
