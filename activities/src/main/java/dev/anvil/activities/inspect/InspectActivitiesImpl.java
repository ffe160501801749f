package dev.anvil.activities.inspect;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.onnx.InvalidModelException;
import dev.anvil.activities.onnx.OnnxInspector;
import dev.anvil.activities.storage.ArtifactCorruptedException;
import dev.anvil.activities.storage.ArtifactNotFoundException;
import dev.anvil.activities.storage.ObjectStore;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Relation;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.inspect.InspectActivities;
import dev.anvil.workflows.inspect.InspectRequest;
import dev.anvil.workflows.inspect.ModelReport;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Adapts {@link OnnxInspector} to Temporal: fetches the model from the artifact store (checksum
 * verified), records the task run and its lineage, and maps failures: a bad model or a corrupted
 * artifact is non-retryable, anything else is retried by the workflow's policy.
 */
public class InspectActivitiesImpl implements InspectActivities {
    private static final String OPERATOR = "inspect";

    private final ObjectStore objects;
    private final OnnxInspector inspector;
    private final TaskRunStore taskRuns;
    private final LineageStore lineage;
    private final ObjectMapper json;

    public InspectActivitiesImpl(ObjectStore objects, OnnxInspector inspector, TaskRunStore taskRuns,
                                 LineageStore lineage, ObjectMapper json) {
        this.objects = objects;
        this.inspector = inspector;
        this.taskRuns = taskRuns;
        this.lineage = lineage;
        this.json = json;
    }

    @Override
    public ModelReport inspectModel(String runId, String taskId, InspectRequest request) {
        int attempt = Activity.getExecutionContext().getInfo().getAttempt();
        String sha256 = request.model().sha256();
        long taskRunId;
        try {
            taskRunId = taskRuns.start(runId, taskId, attempt, OPERATOR, toJson(Map.of("model", sha256)));
            lineage.addEdge(taskRunId, sha256, Relation.USED, "model");
        } catch (DataAccessException e) {
            if (e.isBadInput()) {
                throw ApplicationFailure.newNonRetryableFailure(
                        "cannot record the inspection of artifact " + sha256 + ": " + e.getMessage(), INVALID_MODEL);
            }
            throw e;
        }

        Path file = null;
        try {
            file = Files.createTempFile("anvil-inspect-", ".onnx");
            objects.copyTo(request.model(), file);
            ModelReport report = inspector.inspect(file, sha256);
            taskRuns.finish(taskRunId, "success", toJson(report), null);
            return report;
        } catch (InvalidModelException | ArtifactCorruptedException | ArtifactNotFoundException e) {
            taskRuns.finish(taskRunId, "failed", null, e.getMessage());
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), INVALID_MODEL);
        } catch (IOException | OrtException | RuntimeException e) {
            taskRuns.finish(taskRunId, "failed", null, e.getMessage());
            throw Activity.wrap(e);
        } finally {
            deleteQuietly(file);
        }
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temp file left behind is cleaned by the OS; the result matters more
            }
        }
    }
}
