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
import dev.anvil.modelkit.onnx.ValueTypes;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import dev.anvil.workflows.inspect.ModelReport;
import dev.anvil.workflows.inspect.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Inspects an ONNX model: its structure from the file ({@link OnnxModel#readStructure}) and its
 * inputs and outputs from an ONNX Runtime session, which also proves the runtime can load it. Values
 * that are not tensors read as ONNX writes their types ({@link ValueTypes}).
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
                List<TensorSpec> inputs;
                List<TensorSpec> outputs;
                try {
                    inputs = specs(session.getInputInfo());
                    outputs = specs(session.getOutputInfo());
                } catch (OrtException e) {
                    if (e.getCode() != OrtException.OrtErrorCode.ORT_NOT_IMPLEMENTED) {
                        throw e;
                    }
                    // the session loaded, but ONNX Runtime's Java API cannot describe some value (an optional):
                    // the file declares every input and output
                    GraphProto graph = OnnxModel.read(modelFile).proto().getGraph();
                    inputs = declared(graph.getInputList(), initializers(graph));
                    outputs = declared(graph.getOutputList(), Set.of());
                }
                return new ModelReport(sha256, size, structure.irVersion(), structure.opsets(),
                        structure.producer(), structure.graphName(), structure.nodeCount(),
                        structure.parameterCount(), inputs, outputs, structure.warnings());
            }
        } catch (OrtException e) {
            if (OrtErrors.isModelError(e)) {
                throw new InvalidModelException("ONNX Runtime cannot load the model: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /**
     * A tensor's element type as ONNX Runtime names it ({@code FLOAT}) with its shape; any other value by its
     * ONNX type ({@code seq(map(int64,tensor(float)))} for a ZipMap classifier's probabilities), shape empty.
     */
    private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
        List<TensorSpec> specs = new ArrayList<>();
        for (NodeInfo info : infos.values()) {
            if (info.getInfo() instanceof TensorInfo tensor) {
                specs.add(new TensorSpec(info.getName(), tensor.type.name(), shape(tensor)));
            } else {
                specs.add(new TensorSpec(info.getName(), ValueTypes.describe(info.getInfo()), List.of()));
            }
        }
        return specs;
    }

    /** The same report of values, read from what the file declares (initializers listed as inputs left out). */
    private static List<TensorSpec> declared(List<ValueInfoProto> values, Set<String> skip) {
        List<TensorSpec> specs = new ArrayList<>();
        for (ValueInfoProto value : values) {
            if (skip.contains(value.getName())) {
                continue;
            }
            TypeProto type = value.getType();
            if (type.hasTensorType()) {
                List<String> shape = new ArrayList<>();
                for (TensorShapeProto.Dimension dim : type.getTensorType().getShape().getDimList()) {
                    shape.add(dim.hasDimValue() ? Long.toString(dim.getDimValue())
                            : dim.hasDimParam() && !dim.getDimParam().isEmpty() ? dim.getDimParam() : "-1");
                }
                specs.add(new TensorSpec(value.getName(),
                        ValueTypes.element(type.getTensorType().getElemType()).toUpperCase(Locale.ROOT), shape));
            } else {
                specs.add(new TensorSpec(value.getName(), ValueTypes.describe(type), List.of()));
            }
        }
        return specs;
    }

    private static Set<String> initializers(GraphProto graph) {
        Set<String> names = new HashSet<>();
        for (TensorProto initializer : graph.getInitializerList()) {
            names.add(initializer.getName());
        }
        return names;
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
