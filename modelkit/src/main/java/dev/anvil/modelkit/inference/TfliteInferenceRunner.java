package dev.anvil.modelkit.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.tflite.TfliteModel;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A .tflite model in the TFLite interpreter ({@link TfliteModel}). Layout: the compile operator's converter keeps
 * the graph's inputs and outputs in the ONNX layout (it transposes NCHW to NHWC inside the graph, see
 * {@code TfliteConverter}), so the dataset that feeds the ONNX source feeds the .tflite unchanged, as compile's own
 * verification feeds it. A .tflite whose inputs are NHWC while the dataset is NCHW is refused by the dataset check,
 * naming the input and both shapes.
 */
public final class TfliteInferenceRunner implements InferenceRunner {
    private final OrtEnvironment env;
    private final TfliteModel model;
    private final Map<String, NodeInfo> inputs;
    private final Map<String, NodeInfo> outputs;
    private boolean samplewise;

    private TfliteInferenceRunner(OrtEnvironment env, TfliteModel model) {
        this.env = env;
        this.model = model;
        this.inputs = describe(model.inputs());
        this.outputs = describe(model.outputs());
    }

    static TfliteInferenceRunner open(OrtEnvironment env, Path file, int threads) throws IOException {
        TfliteModel model = TfliteModel.open(file, threads > 0 ? threads : -1);
        try {
            return new TfliteInferenceRunner(env, model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    @Override
    public Map<String, NodeInfo> inputs() {
        return inputs;
    }

    @Override
    public Map<String, NodeInfo> outputs() {
        return outputs;
    }

    @Override
    public DatasetFeed feed(DatasetReader reader, int batchSize, long limit) throws IOException {
        return DatasetFeed.open(env, inputs, reader, batchSize, limit);
    }

    /** Runs the batch's arrays as they are (ONNX layout) and returns every output the model has. */
    @Override
    public Outputs run(DatasetFeed.Batch batch, Set<String> names) throws OrtException {
        List<ByteBuffer> data = new ArrayList<>();
        List<int[]> shapes = new ArrayList<>();
        for (TfliteModel.Tensor input : model.inputs()) {
            OnnxTensor t = batch.inputs().get(input.name());
            if (t == null) {
                throw new IllegalArgumentException("the batch has no input '" + input.name() + "', expected one of "
                        + batch.inputs().keySet());
            }
            data.add(t.getByteBuffer().order(ByteOrder.nativeOrder()));
            shapes.add(Arrays.stream(t.getInfo().getShape()).mapToInt(Math::toIntExact).toArray());
        }
        Map<String, OnnxTensor> values = new LinkedHashMap<>();
        try {
            for (TfliteModel.Value v : invoke(data, shapes, batch.size())) {
                if (names.contains(v.name())) {
                    values.put(v.name(), OnnxTensor.createTensor(env, v.data(),
                            Arrays.stream(v.shape()).asLongStream().toArray(), javaType(v.type())));
                }
            }
        } catch (OrtException | RuntimeException e) {
            values.values().forEach(OnnxTensor::close);
            throw e;
        }
        return new Outputs(values, () -> values.values().forEach(OnnxTensor::close));
    }

    /**
     * Runs the batch whole, or sample by sample when the interpreter cannot be resized to it: a .tflite whose batch is
     * free in its signature may still refuse a larger batch (a file whose RESHAPE holds a fixed batch of 1, as
     * Anvil's converter wrote cnn_mnist's before it kept the batch free through every op), and the dataset's batch is
     * then served as a client of that model would get it served, one
     * invocation per sample, with the outputs stacked on axis 0.
     */
    private List<TfliteModel.Value> invoke(List<ByteBuffer> data, List<int[]> shapes, int samples) {
        if (samples > 1 && !samplewise) {
            try {
                return model.run(data, shapes);
            } catch (IllegalStateException refused) {
                samplewise = true; // the interpreter keeps its batch-1 tensors; the next run resizes back
            }
        }
        if (samples <= 1) {
            return model.run(data, shapes);
        }
        List<List<TfliteModel.Value>> runs = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            List<ByteBuffer> one = new ArrayList<>();
            List<int[]> oneShape = new ArrayList<>();
            for (int i = 0; i < data.size(); i++) {
                ByteBuffer all = data.get(i);
                int per = all.remaining() / samples;
                one.add(all.duplicate().position(all.position() + s * per).limit(all.position() + (s + 1) * per).slice()
                        .order(ByteOrder.nativeOrder()));
                int[] shape = shapes.get(i).clone();
                shape[0] = 1;
                oneShape.add(shape);
            }
            runs.add(model.run(one, oneShape));
        }
        List<TfliteModel.Value> stacked = new ArrayList<>();
        for (int o = 0; o < runs.get(0).size(); o++) {
            TfliteModel.Value first = runs.get(0).get(o);
            ByteBuffer out = ByteBuffer.allocateDirect(first.data().remaining() * samples).order(ByteOrder.nativeOrder());
            for (List<TfliteModel.Value> run : runs) {
                out.put(run.get(o).data().duplicate());
            }
            out.flip();
            int[] shape = first.shape().clone();
            shape[0] = samples;
            stacked.add(new TfliteModel.Value(first.name(), first.type(), shape, out));
        }
        return stacked;
    }

    @Override
    public String note() {
        return samplewise ? "the TFLite interpreter refused to resize the model to the batch, so each batch ran"
                + " sample by sample (one invocation per sample): latency is per batch served that way" : null;
    }

    @Override
    public String runtime() {
        return "tflite";
    }

    @Override
    public void close() {
        model.close();
    }

    private static Map<String, NodeInfo> describe(List<TfliteModel.Tensor> tensors) {
        Map<String, NodeInfo> described = new LinkedHashMap<>();
        for (TfliteModel.Tensor t : tensors) {
            long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
            described.put(t.name(), new NodeInfo(t.name(), tensorInfo(shape, javaType(t.type()))));
        }
        return described;
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

    /**
     * ONNX Runtime builds {@link TensorInfo} only from its own sessions and from concrete values, neither of which
     * can say "any batch" (-1); the description of a TFLite tensor needs its package-private constructor.
     */
    private static TensorInfo tensorInfo(long[] shape, OnnxJavaType type) {
        try {
            Constructor<TensorInfo> c = TensorInfo.class.getDeclaredConstructor(long[].class, OnnxJavaType.class,
                    TensorInfo.OnnxTensorType.class);
            c.setAccessible(true);
            return c.newInstance(shape, type, TensorInfo.OnnxTensorType.mapFromJavaType(type));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("this ONNX Runtime version cannot describe a TFLite tensor of type "
                    + type + " and shape " + Arrays.toString(shape) + ": " + e, e);
        }
    }
}
