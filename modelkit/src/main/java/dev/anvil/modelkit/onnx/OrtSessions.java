package dev.anvil.modelkit.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The only way this code base opens an ONNX Runtime session: the model is checked first, so that ONNX
 * Runtime never follows a tensor's external-data reference to a file near where the model was written
 * ({@link ExternalData}). An architecture test keeps every other class off
 * {@code OrtEnvironment.createSession}.
 */
public final class OrtSessions {
    private OrtSessions() {}

    /**
     * Opens a session on a model file after the cheap mapped scan of {@link OnnxModel#readStructure}.
     *
     * @throws InvalidModelException when the file is not an ONNX model or keeps weights in external data
     */
    public static OrtSession open(OrtEnvironment env, Path model, OrtSession.SessionOptions options)
            throws IOException, OrtException {
        OnnxModel.readStructure(model);
        return env.createSession(model.toString(), options);
    }

    /**
     * Opens a session on a model held in memory.
     *
     * @throws InvalidModelException when the model keeps weights in external data
     */
    public static OrtSession open(OrtEnvironment env, ModelProto model, OrtSession.SessionOptions options)
            throws OrtException {
        ExternalData.refuse(model);
        return env.createSession(model.toByteArray(), options);
    }
}
