package dev.anvil.serving;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.onnx.ValueTypes;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** An ONNX model in an ONNX Runtime session. */
final class OrtEngine implements ModelEngine {
    static final String PLATFORM = "onnxruntime_onnx";
    private final OrtSession session;
    private final Map<String, TensorInfo> inputs;
    private final Map<String, LoadedModel.Output> outputs;

    OrtEngine(OrtSession session) throws OrtException {
        this.session = session;
        this.inputs = tensors(session.getInputInfo());
        this.outputs = outputs(session.getOutputInfo());
    }

    OrtSession session() {
        return session;
    }

    @Override
    public String platform() {
        return PLATFORM;
    }

    @Override
    public Map<String, TensorInfo> inputs() {
        return inputs;
    }

    @Override
    public Map<String, LoadedModel.Output> outputs() {
        return outputs;
    }

    @Override
    public Outputs run(Map<String, OnnxTensor> in, Set<String> out) throws OrtException {
        OrtSession.Result result = session.run(in, out);
        return new Outputs() {
            @Override
            public Iterator<Map.Entry<String, OnnxValue>> iterator() {
                return result.iterator();
            }

            @Override
            public void close() {
                result.close();
            }
        };
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing frees native memory; nothing a caller could do about a failure here
        }
    }

    /**
     * ONNX Runtime lists a session's inputs and outputs in the graph's order; Map.copyOf would lose it. Inputs
     * are tensors only: a request has no way to send another kind of value.
     */
    private static Map<String, TensorInfo> tensors(Map<String, NodeInfo> nodes) {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        nodes.forEach((name, node) -> {
            if (node.getInfo() instanceof TensorInfo t) {
                tensors.put(name, t);
            }
        });
        return Collections.unmodifiableMap(tensors);
    }

    private static Map<String, LoadedModel.Output> outputs(Map<String, NodeInfo> nodes) {
        Map<String, LoadedModel.Output> outputs = new LinkedHashMap<>();
        nodes.forEach((name, node) -> outputs.put(name, new LoadedModel.Output(name,
                node.getInfo() instanceof TensorInfo t ? t : null, node.getInfo(), ValueTypes.describe(node.getInfo()))));
        return Collections.unmodifiableMap(outputs);
    }
}
