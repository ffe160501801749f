package dev.anvil.activities.inspect;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.inspect.OnnxInspector;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Relation;
import dev.anvil.db.TaskRunStore;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.inspect.InspectActivities;
import dev.anvil.workflows.inspect.InspectRequest;
import dev.anvil.workflows.inspect.ModelReport;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Adapts {@link OnnxInspector} to Temporal: fetches the model from the artifact store (checksum
 * verified), records the task run and its lineage, and maps failures: a bad model or a corrupted
 * artifact is non-retryable, anything else is retried by the workflow's policy.
 */
public class InspectActivitiesImpl implements InspectActivities {
    private static final String OPERATOR = "inspect";

    private final StoredModelInspector storedModels;
    private final TaskRunStore taskRuns;
    private final LineageStore lineage;
    private final ObjectMapper json;

    public InspectActivitiesImpl(ObjectStore objects, OnnxInspector inspector, TaskRunStore taskRuns,
                                 LineageStore lineage, ObjectMapper json) {
        this.storedModels = new StoredModelInspector(objects, inspector);
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

        try {
            ModelReport report = storedModels.inspect(request.model());
            taskRuns.finish(taskRunId, "success", toJson(report), null);
            return report;
        } catch (InvalidModelException e) {
            taskRuns.finish(taskRunId, "failed", null, e.getMessage());
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), INVALID_MODEL);
        } catch (IOException | OrtException | RuntimeException e) {
            taskRuns.finish(taskRunId, "failed", null, e.getMessage());
            throw Activity.wrap(e);
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
