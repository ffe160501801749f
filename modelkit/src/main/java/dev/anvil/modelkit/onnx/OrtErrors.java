package dev.anvil.modelkit.onnx;

import ai.onnxruntime.OrtException;
import java.util.EnumSet;
import java.util.Set;

/** Which ONNX Runtime failures come from the model itself (bad input a retry cannot fix). */
public final class OrtErrors {
    private static final Set<OrtException.OrtErrorCode> MODEL_ERRORS = EnumSet.of(
            OrtException.OrtErrorCode.ORT_INVALID_PROTOBUF,
            OrtException.OrtErrorCode.ORT_INVALID_GRAPH,
            OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT,
            OrtException.OrtErrorCode.ORT_NO_MODEL,
            OrtException.OrtErrorCode.ORT_NOT_IMPLEMENTED,
            OrtException.OrtErrorCode.ORT_FAIL);

    private OrtErrors() {}

    /** True when loading or running failed because of the model's bytes or graph, not the runtime. */
    public static boolean isModelError(OrtException e) {
        return MODEL_ERRORS.contains(e.getCode());
    }
}
