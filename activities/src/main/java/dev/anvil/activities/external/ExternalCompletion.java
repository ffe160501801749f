package dev.anvil.activities.external;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.ExternalTaskStore;
import dev.anvil.db.ExternalTaskStore.ExternalTask;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.TaskResult;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.ActivityCompletionClient;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.ActivityNotExistsException;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a training service's callbacks do to the attempt their token stands for: heartbeat it, complete it with the
 * uploaded model (stored by sha256, registered as the task's {@code model} output with lineage and provenance), or
 * fail it. A token ends its attempt once; unknown tokens, used tokens and attempts Temporal already gave up on are
 * refused with {@link ExternalTaskException}.
 */
public final class ExternalCompletion {
    /** The failure type of a task its training service failed; not retried (the service said why). */
    public static final String FAILED_BY_SERVICE = "ExternalTrainingFailed";

    private final ExternalTaskStore tasks;
    private final TaskRunStore taskRuns;
    private final ArtifactIO io;
    private final ObjectStore objects;
    private final ActivityCompletionClient temporal;

    public ExternalCompletion(ExternalTaskStore tasks, TaskRunStore taskRuns, ArtifactIO io, ObjectStore objects,
                              ActivityCompletionClient temporal) {
        this.tasks = tasks;
        this.taskRuns = taskRuns;
        this.io = io;
        this.objects = objects;
        this.temporal = temporal;
    }

    /** The attempt the token stands for, still waiting; 404 or 409 otherwise. */
    public ExternalTask waiting(String token) {
        ExternalTask task = (CallbackTokens.wellFormed(token) ? tasks.find(CallbackTokens.id(token))
                : java.util.Optional.<ExternalTask>empty())
                .orElseThrow(() -> new ExternalTaskException(404, "no external task has this token; use the callback"
                        + " URL of the job Anvil sent"));
        if (!task.waiting()) {
            throw new ExternalTaskException(409, "external task " + task.taskId() + " (run " + task.runId() + ", attempt "
                    + task.attempt() + ") is already " + task.state() + "; its token cannot be used again"
                    + (task.state().equals("superseded") || task.state().equals("expired")
                    ? " (Temporal gave up on this attempt; a retry gets a new job and token)" : ""));
        }
        return task;
    }

    public void heartbeat(String token, Object progress) {
        ExternalTask task = waiting(token);
        try {
            temporal.heartbeat(task.temporalTaskToken(), progress);
        } catch (ActivityCompletionException e) {
            throw gone(task, e);
        }
    }

    /**
     * Stores the model the service uploaded and completes the attempt with it. Nothing is completed when no model
     * was uploaded (422), and the token stays usable then.
     */
    public ExternalTask complete(String token, Map<String, Object> metrics) throws IOException {
        ExternalTask task = waiting(token);
        String upload = ExternalOperator.uploadName(task.id());
        if (objects.inboxSize(upload).isEmpty()) {
            throw new ExternalTaskException(422, "external task " + task.taskId() + " has no uploaded model: PUT it to"
                    + " the job's upload.model.url first, then complete; the task was not completed");
        }
        if (!tasks.finish(task.id(), "completed")) {
            throw new ExternalTaskException(409, "external task " + task.taskId() + " was ended by another call meanwhile");
        }
        Path file = Files.createTempFile("anvil-external-", ".model");
        try {
            try (InputStream in = objects.openInbox(upload)) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            ArtifactRef model = io.publish(context(task), file, ArtifactIO.ONNX_MEDIA_TYPE, "model");
            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("model", io.asOutput(model));
            if (metrics != null && !metrics.isEmpty()) {
                outputs.put("metrics", metrics);
            }
            try {
                temporal.complete(task.temporalTaskToken(), new TaskResult(outputs));
            } catch (ActivityCompletionException e) {
                tasks.reopen(task.id(), "completed");
                throw gone(task, e);
            }
            taskRuns.finish(task.taskRunId(), "success", toJson(outputs), null);
            objects.deleteInbox(upload);
            return task;
        } catch (IOException | RuntimeException e) {
            if (!(e instanceof ExternalTaskException)) {
                tasks.reopen(task.id(), "completed");
            }
            throw e;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Fails the attempt for the reason the service gives; the task is not retried. */
    public ExternalTask fail(String token, String reason) {
        ExternalTask task = waiting(token);
        if (!tasks.finish(task.id(), "failed")) {
            throw new ExternalTaskException(409, "external task " + task.taskId() + " was ended by another call meanwhile");
        }
        String message = "training service '" + task.service() + "' failed the task: " + reason;
        try {
            temporal.completeExceptionally(task.temporalTaskToken(),
                    ApplicationFailure.newNonRetryableFailure(message, FAILED_BY_SERVICE));
        } catch (ActivityCompletionException e) {
            tasks.reopen(task.id(), "failed");
            throw gone(task, e);
        }
        taskRuns.finish(task.taskRunId(), "failed", null, message);
        objects.deleteInbox(ExternalOperator.uploadName(task.id()));
        return task;
    }

    /** Temporal no longer runs the attempt (timed out, cancelled): the token is spent. */
    private ExternalTaskException gone(ExternalTask task, ActivityCompletionException e) {
        String why = e instanceof ActivityCanceledException ? "was cancelled"
                : e instanceof ActivityNotExistsException ? "is no longer running (it timed out, or its run ended)"
                : "cannot be reached (" + e.getMessage() + ")";
        if (e instanceof ActivityCanceledException || e instanceof ActivityNotExistsException) {
            tasks.finish(task.id(), "expired");
        }
        if (e instanceof ActivityCanceledException) {
            try {
                // the run was cancelled: tell Temporal the attempt stopped, as a worker's activity would
                temporal.reportCancellation(task.temporalTaskToken(), null);
            } catch (ActivityCompletionException ignored) {
                // already gone: nothing left to report to
            }
        }
        return new ExternalTaskException(409, "attempt " + task.attempt() + " of external task " + task.taskId()
                + " (run " + task.runId() + ") " + why + "; its token cannot be used any more");
    }

    private static TaskContext context(ExternalTask task) {
        return new TaskContext() {
            public String runId() { return task.runId(); }
            public String taskId() { return task.taskId(); }
            public long taskRunId() { return task.taskRunId(); }
            public int attempt() { return task.attempt(); }
            public void heartbeat(Object progress) { }
        };
    }

    private String toJson(Object value) {
        try {
            return io.json().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("task outputs are not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
