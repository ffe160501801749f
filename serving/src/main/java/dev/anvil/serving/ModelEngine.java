package dev.anvil.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import java.util.Map;
import java.util.Set;

/**
 * What runs a loaded model's requests: ONNX Runtime for .onnx artifacts, the TFLite interpreter for .tflite ones.
 * Requests are decoded into ONNX Runtime tensors either way (the gateway's one tensor type), so an engine describes
 * its signature as ONNX Runtime's {@link TensorInfo} and answers with ONNX Runtime values.
 */
interface ModelEngine extends AutoCloseable {
    /** The Open Inference Protocol platform the model metadata names, e.g. {@code onnxruntime_onnx}. */
    String platform();

    /** Tensor inputs in the model's order. */
    Map<String, TensorInfo> inputs();

    /** Every output in the model's order. */
    Map<String, LoadedModel.Output> outputs();

    /** Runs one request; the caller closes what it returns. */
    Outputs run(Map<String, OnnxTensor> inputs, Set<String> outputs) throws OrtException;

    @Override
    void close();

    /** A run's outputs in the model's order; closing frees them. */
    interface Outputs extends Iterable<Map.Entry<String, OnnxValue>>, AutoCloseable {
        @Override
        void close();
    }
}
