package dev.anvil.serving;

import ai.onnxruntime.OnnxTensor;
import java.util.Map;
import java.util.Set;

/**
 * An Open Inference Protocol request decoded against one model: its input tensors (owned: close
 * the request to free them), the outputs to compute and which of those go back as binary data.
 */
record V2Request(String id, Map<String, OnnxTensor> inputs, Set<String> outputs, Set<String> binaryOutputs)
        implements AutoCloseable {
    @Override
    public void close() {
        inputs.values().forEach(OnnxTensor::close);
    }
}
