package dev.anvil.serving;

import ai.onnxruntime.OnnxTensor;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An Open Inference Protocol request decoded against one model: its input tensors and the direct
 * buffers under them (owned: close the request to free both at once), the outputs to compute and
 * which of those go back as binary data.
 */
record V2Request(String id, Map<String, OnnxTensor> inputs, List<ByteBuffer> buffers, Set<String> outputs,
                 Set<String> binaryOutputs) implements AutoCloseable {
    @Override
    public void close() {
        free(inputs.values(), buffers);
    }

    /** Closes the tensors, then frees the memory under them: never the other way round. */
    static void free(Collection<OnnxTensor> tensors, List<ByteBuffer> buffers) {
        tensors.forEach(OnnxTensor::close);
        buffers.forEach(DirectBuffers::free);
    }
}
