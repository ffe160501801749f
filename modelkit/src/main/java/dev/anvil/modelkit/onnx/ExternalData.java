package dev.anvil.modelkit.onnx;

import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.FunctionProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.SparseTensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.StringStringEntryProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TrainingInfoProto;
import java.util.Optional;

/**
 * Models must carry their weights inline. A tensor with external data names a file that ONNX Runtime
 * (and any reader) resolves relative to wherever the model was written, so an uploaded model could pull
 * server files beside that spot into a converted artifact or an inference response; ONNX Runtime even
 * reads process memory for a location naming {@code _ORT_MEM_ADDR_}. Every tensor the format can
 * hold is looked at: graph initializers, sparse initializers, node attributes (Constant values, tensor
 * lists, sparse tensors), the sub-graphs of If/Loop/Scan, model-local functions and training graphs.
 */
public final class ExternalData {
    private ExternalData() {}

    /** @throws InvalidModelException naming the first tensor that keeps its data in a file */
    public static void refuse(ModelProto model) {
        find(model).ifPresent(t -> {
            throw new InvalidModelException("external data is not supported: embed the weights (tensor '" + t.getName()
                    + "' refers to file '" + location(t) + "')");
        });
    }

    /** The first tensor anywhere in the model that keeps its data outside the model's own bytes. */
    public static Optional<TensorProto> find(ModelProto model) {
        Optional<TensorProto> found = inGraph(model.getGraph());
        for (int i = 0; found.isEmpty() && i < model.getFunctionsCount(); i++) {
            FunctionProto function = model.getFunctions(i);
            for (int n = 0; found.isEmpty() && n < function.getNodeCount(); n++) {
                found = inNode(function.getNode(n));
            }
        }
        for (int i = 0; found.isEmpty() && i < model.getTrainingInfoCount(); i++) {
            TrainingInfoProto training = model.getTrainingInfo(i);
            found = inGraph(training.getInitialization()).or(() -> inGraph(training.getAlgorithm()));
        }
        return found;
    }

    private static Optional<TensorProto> inGraph(GraphProto graph) {
        for (TensorProto t : graph.getInitializerList()) {
            if (isExternal(t)) {
                return Optional.of(t);
            }
        }
        for (SparseTensorProto sparse : graph.getSparseInitializerList()) {
            Optional<TensorProto> found = inSparse(sparse);
            if (found.isPresent()) {
                return found;
            }
        }
        for (NodeProto node : graph.getNodeList()) {
            Optional<TensorProto> found = inNode(node);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static Optional<TensorProto> inNode(NodeProto node) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.hasT() && isExternal(a.getT())) {
                return Optional.of(a.getT());
            }
            for (TensorProto t : a.getTensorsList()) {
                if (isExternal(t)) {
                    return Optional.of(t);
                }
            }
            Optional<TensorProto> found = a.hasSparseTensor() ? inSparse(a.getSparseTensor()) : Optional.empty();
            for (int i = 0; found.isEmpty() && i < a.getSparseTensorsCount(); i++) {
                found = inSparse(a.getSparseTensors(i));
            }
            if (found.isEmpty() && a.hasG()) {
                found = inGraph(a.getG());
            }
            for (int i = 0; found.isEmpty() && i < a.getGraphsCount(); i++) {
                found = inGraph(a.getGraphs(i));
            }
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static Optional<TensorProto> inSparse(SparseTensorProto sparse) {
        if (isExternal(sparse.getValues())) {
            return Optional.of(sparse.getValues());
        }
        return isExternal(sparse.getIndices()) ? Optional.of(sparse.getIndices()) : Optional.empty();
    }

    /** Marked external, or carrying external-data entries a reader might follow regardless of the mark. */
    private static boolean isExternal(TensorProto t) {
        return t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0;
    }

    private static String location(TensorProto t) {
        for (StringStringEntryProto e : t.getExternalDataList()) {
            if (e.getKey().equals("location")) {
                return e.getValue();
            }
        }
        return "";
    }
}
