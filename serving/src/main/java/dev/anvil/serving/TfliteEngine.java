package dev.anvil.serving;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.tflite.TfliteModel;
import java.lang.reflect.Constructor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A .tflite model in the TFLite interpreter. One interpreter per model, used by one request at a time
 * ({@link TfliteModel#run} is synchronized): an interpreter holds its tensors in place, and the model's
 * {@link LoadedModel#maxConcurrent()} slots already bound how many requests wait on it. Requests arrive as ONNX
 * Runtime tensors (the gateway's one decoded form); their bytes are copied into the interpreter's inputs and the
 * outputs copied back into ONNX Runtime tensors, so responses are written exactly as for ONNX models.
 */
final class TfliteEngine implements ModelEngine {
    static final String PLATFORM = "tensorflow_lite";
    private static final Constructor<TensorInfo> TENSOR_INFO = tensorInfoConstructor();
    private final OrtEnvironment env;
    private final TfliteModel model;
    private final Map<String, TensorInfo> inputs;
    private final Map<String, LoadedModel.Output> outputs;

    TfliteEngine(OrtEnvironment env, TfliteModel model) {
        this.env = env;
        this.model = model;
        try {
            Map<String, TensorInfo> in = new LinkedHashMap<>();
            for (TfliteModel.Tensor t : model.inputs()) {
                in.put(t.name(), info(t));
            }
            Map<String, LoadedModel.Output> out = new LinkedHashMap<>();
            for (TfliteModel.Tensor t : model.outputs()) {
                TensorInfo info = info(t);
                out.put(t.name(), new LoadedModel.Output(t.name(), info, info, "tensor(" + t.type().name().toLowerCase(
                        java.util.Locale.ROOT) + ")"));
            }
            this.inputs = Collections.unmodifiableMap(in);
            this.outputs = Collections.unmodifiableMap(out);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
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
    public Outputs run(Map<String, OnnxTensor> in, Set<String> wanted) throws OrtException {
        List<ByteBuffer> data = new ArrayList<>(inputs.size());
        List<int[]> shapes = new ArrayList<>(inputs.size());
        for (String name : inputs.keySet()) {
            OnnxTensor tensor = in.get(name);
            if (tensor == null) {
                throw new OrtException(OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT, "missing input '" + name + "'");
            }
            data.add(tensor.getByteBuffer().order(ByteOrder.nativeOrder()));
            long[] shape = tensor.getInfo().getShape();
            int[] dims = new int[shape.length];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = Math.toIntExact(shape[i]);
            }
            shapes.add(dims);
        }
        List<TfliteModel.Value> values;
        try {
            values = model.run(data, shapes);
        } catch (IllegalArgumentException e) {
            throw new OrtException(OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT, e.getMessage());
        } catch (IllegalStateException e) {
            throw new OrtException(OrtException.OrtErrorCode.ORT_RUNTIME_EXCEPTION, e.getMessage());
        }
        Map<String, OnnxValue> results = new LinkedHashMap<>();
        try {
            for (TfliteModel.Value v : values) {
                if (wanted == null || wanted.isEmpty() || wanted.contains(v.name())) {
                    long[] shape = new long[v.shape().length];
                    for (int i = 0; i < shape.length; i++) {
                        shape[i] = v.shape()[i];
                    }
                    results.put(v.name(), OnnxTensor.createTensor(env, v.data(), shape, javaType(v.type())));
                }
            }
        } catch (OrtException | RuntimeException e) {
            results.values().forEach(OnnxValue::close);
            throw e;
        }
        return new Outputs() {
            @Override
            public Iterator<Map.Entry<String, OnnxValue>> iterator() {
                return results.entrySet().stream()
                        .map(e -> (Map.Entry<String, OnnxValue>) new AbstractMap.SimpleImmutableEntry<>(e))
                        .iterator();
            }

            @Override
            public void close() {
                results.values().forEach(OnnxValue::close);
            }
        };
    }

    @Override
    public void close() {
        model.close();
    }

    static OnnxJavaType javaType(TfliteModel.DType type) {
        return switch (type) {
            case FLOAT32 -> OnnxJavaType.FLOAT;
            case FLOAT16 -> OnnxJavaType.FLOAT16;
            case INT8 -> OnnxJavaType.INT8;
            case UINT8 -> OnnxJavaType.UINT8;
            case INT16 -> OnnxJavaType.INT16;
            case INT32 -> OnnxJavaType.INT32;
            case INT64 -> OnnxJavaType.INT64;
            case BOOL -> OnnxJavaType.BOOL;
        };
    }

    static TensorInfo.OnnxTensorType onnxType(TfliteModel.DType type) {
        return switch (type) {
            case FLOAT32 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
            case FLOAT16 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
            case INT8 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
            case UINT8 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
            case INT16 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
            case INT32 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
            case INT64 -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
            case BOOL -> TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
        };
    }

    /**
     * ONNX Runtime's Java API builds a TensorInfo with free (-1) dimensions only inside its own package; the
     * request reader checks requests against TensorInfo, so a TFLite signature (dynamic batch included) is
     * described through that constructor.
     */
    private static TensorInfo info(TfliteModel.Tensor t) {
        long[] shape = new long[t.shape().length];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.shape()[i];
        }
        try {
            return TENSOR_INFO.newInstance(shape, javaType(t.type()), onnxType(t.type()));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot describe TFLite tensor '" + t.name() + "': " + e, e);
        }
    }

    private static Constructor<TensorInfo> tensorInfoConstructor() {
        try {
            Constructor<TensorInfo> c = TensorInfo.class.getDeclaredConstructor(long[].class, OnnxJavaType.class,
                    TensorInfo.OnnxTensorType.class);
            c.setAccessible(true);
            return c;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("this ONNX Runtime version lacks TensorInfo(long[], OnnxJavaType,"
                    + " OnnxTensorType); the gateway cannot describe TFLite models", e);
        }
    }
}
