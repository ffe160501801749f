package dev.anvil.activities.operators;

import dev.anvil.activities.inspect.OnnxInspector;
import dev.anvil.activities.inspect.StoredModelInspector;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.inspect.ModelReport;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code inspect}: loads an ONNX model in ONNX Runtime and reports its structure. {@code with.model}
 * is an artifact reference (from an upstream task) or the sha256 of an uploaded artifact. Outputs
 * the model reference (for downstream tasks) and the report's figures.
 */
public final class InspectOperator implements Operator {
    private final ArtifactIO artifacts;
    private final StoredModelInspector storedModels;

    public InspectOperator(ArtifactIO artifacts, ObjectStore objects, OnnxInspector inspector) {
        this.artifacts = artifacts;
        this.storedModels = new StoredModelInspector(objects, inspector);
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.INSPECT;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        ArtifactRef model = artifacts.resolve(name(), with, "model");
        artifacts.used(context, model, "model");
        ModelReport report;
        try {
            // one call that reads the model and builds an ONNX Runtime session: the worker's keep-alive heartbeats
            // while it runs, this marks the stage
            context.heartbeat(Map.of("stage", "load"));
            report = storedModels.inspect(model);
        } catch (InvalidModelException e) {
            throw new InvalidTaskInputException(e.getMessage(), e);
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("model", artifacts.asOutput(model));
        outputs.put("report", artifacts.json().convertValue(report, Map.class));
        return outputs;
    }
}
