package dev.anvil.activities.inspect;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.ModelStructure;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtErrors;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.workflows.inspect.ModelReport;
import dev.anvil.workflows.inspect.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Inspects an ONNX model: its structure from the file ({@link OnnxModel#readStructure}) and its
 * inputs and outputs from an ONNX Runtime session, which also proves the runtime can load it.
 */
public final class OnnxInspector {
    private final OrtEnvironment environment;

    public OnnxInspector(OrtEnvironment environment) {
        this.environment = environment;
    }

    /**
     * @throws InvalidModelException when the file is not a model ONNX Runtime can load
     * @throws OrtException for runtime faults that are not the model's (worth a retry)
     */
    public ModelReport inspect(Path modelFile, String sha256) throws OrtException, IOException {
        ModelStructure structure = OnnxModel.readStructure(modelFile);
        long size = Files.size(modelFile);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            // Inspection only needs the graph's signature: skip optimisation work on large models.
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            try (OrtSession session = OrtSessions.open(environment, modelFile, options)) {
                return new ModelReport(sha256, size, structure.irVersion(), structure.opsets(),
                        structure.producer(), structure.graphName(), structure.nodeCount(),
                        structure.parameterCount(), specs(session.getInputInfo()), specs(session.getOutputInfo()),
                        structure.warnings());
            }
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidModelException("ONNX Runtime cannot load the model: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
        List<TensorSpec> specs = new ArrayList<>();
        for (NodeInfo info : infos.values()) {
            if (info.getInfo() instanceof TensorInfo tensor) {
                specs.add(new TensorSpec(info.getName(), tensor.type.name(), shape(tensor)));
            } else {
                specs.add(new TensorSpec(info.getName(), info.getInfo().toString(), List.of()));
            }
        }
        return specs;
    }

    /** Fixed dimensions as numbers; free ones by their symbolic name when the model gives one, else "-1". */
    private static List<String> shape(TensorInfo tensor) {
        long[] dims = tensor.getShape();
        String[] names = tensor.getDimensionNames();
        List<String> shape = new ArrayList<>(dims.length);
        for (int i = 0; i < dims.length; i++) {
            boolean named = names != null && i < names.length && names[i] != null && !names[i].isEmpty();
            shape.add(dims[i] >= 0 ? Long.toString(dims[i]) : named ? names[i] : "-1");
        }
        return shape;
    }
}
