package dev.anvil.activities.operators;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.inspect.StoredModelInspector;
import dev.anvil.activities.onnx.InvalidModelException;
import dev.anvil.activities.onnx.OnnxInspector;
import dev.anvil.activities.storage.ObjectStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.Relation;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.inspect.ModelReport;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code inspect}: loads an ONNX model in ONNX Runtime and reports its structure. {@code with.model}
 * is an artifact reference (from an upstream task) or the sha256 of an uploaded artifact. Outputs
 * the model reference (for downstream tasks) and the report's figures.
 */
public final class InspectOperator implements Operator {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final ObjectStore objects;
    private final StoredModelInspector storedModels;
    private final LineageStore lineage;
    private final ObjectMapper json;

    public InspectOperator(ObjectStore objects, OnnxInspector inspector, LineageStore lineage, ObjectMapper json) {
        this.objects = objects;
        this.storedModels = new StoredModelInspector(objects, inspector);
        this.lineage = lineage;
        this.json = json;
    }

    @Override
    public String name() {
        return "inspect";
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        ArtifactRef model = artifact(with.get("model"));
        lineage.addEdge(context.taskRunId(), model.sha256(), Relation.USED, "model");
        ModelReport report;
        try {
            report = storedModels.inspect(model);
        } catch (InvalidModelException e) {
            throw new InvalidTaskInputException(e.getMessage(), e);
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("model", json.convertValue(model, Map.class));
        outputs.put("report", json.convertValue(report, Map.class));
        return outputs;
    }

    private ArtifactRef artifact(Object value) throws IOException {
        if (value instanceof Map<?, ?> map) {
            return json.convertValue(map, ArtifactRef.class);
        }
        if (value instanceof String s && SHA256.matcher(s.trim().toLowerCase()).matches()) {
            Optional<ArtifactRef> ref = objects.find(s.trim().toLowerCase());
            return ref.orElseThrow(() -> new InvalidTaskInputException("inspect: no artifact with sha256 " + s
                    + "; upload it with POST /api/artifacts"));
        }
        throw new InvalidTaskInputException("inspect needs with.model: an artifact reference or a sha256; got " + value);
    }
}
