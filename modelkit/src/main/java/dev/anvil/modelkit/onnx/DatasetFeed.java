package dev.anvil.modelkit.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.datasets.NpyBatches;
import dev.anvil.modelkit.datasets.NpyDtype;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Feeds a dataset artifact to an ONNX Runtime session batch by batch: memory is bounded by one batch,
 * not by the dataset. Opening checks the dataset against the model's inputs (every input present, dtype
 * and per-sample shape equal) and names the first mismatch, so bad data fails before any work.
 */
public final class DatasetFeed implements AutoCloseable {
    private final OrtEnvironment env;
    private final DatasetReader dataset;
    private final Map<String, NodeInfo> modelInputs;
    private final Map<String, NpyBatches> streams = new LinkedHashMap<>();
    private final long[] labels;
    private final long total;
    private long position;

    /** A batch of inputs as ORT tensors (closed with the batch), where it starts, and its labels if the dataset has them. */
    public record Batch(Map<String, OnnxTensor> inputs, long firstSample, int size, Optional<long[]> labels)
            implements AutoCloseable {
        @Override
        public void close() {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private DatasetFeed(OrtEnvironment env, DatasetReader dataset, Map<String, NodeInfo> modelInputs, int batchSize,
            long limit) throws IOException {
        this.env = env;
        this.dataset = dataset;
        this.modelInputs = modelInputs;
        this.total = limit > 0 ? Math.min(limit, dataset.sampleCount()) : dataset.sampleCount();
        for (String input : modelInputs.keySet()) {
            streams.put(input, dataset.batches(input, batchSize));
        }
        this.labels = dataset.labels().map(NpyArray::toLongArray).orElse(null);
    }

    /**
     * Opens {@code reader} for {@code session}'s inputs.
     *
     * @param limit at most this many samples are fed (0 = all)
     * @throws DatasetFormatException when the dataset does not fit the model; the message names the array
     */
    public static DatasetFeed open(OrtEnvironment env, OrtSession session, DatasetReader reader, int batchSize, long limit)
            throws OrtException, IOException {
        Map<String, NodeInfo> inputs = session.getInputInfo();
        check(inputs, reader);
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        for (NodeInfo info : inputs.values()) {
            long first = ((TensorInfo) info.getInfo()).getShape()[0];
            if (first > 0 && first != batchSize) {
                if (first == 1) {
                    batchSize = 1;
                } else {
                    throw new DatasetFormatException("model input '" + info.getName() + "' has a fixed batch size of "
                            + first + "; only a free batch axis or a batch of 1 can be fed");
                }
            }
        }
        return new DatasetFeed(env, reader, inputs, batchSize, limit);
    }

    /** Checks that the dataset holds every model input with the model's dtype and per-sample shape. */
    public static void check(Map<String, NodeInfo> modelInputs, DatasetReader reader) {
        List<String> arrays = reader.inputNames();
        for (NodeInfo info : modelInputs.values()) {
            String name = info.getName();
            if (!(info.getInfo() instanceof TensorInfo tensor)) {
                throw new DatasetFormatException("model input '" + name + "' is not a tensor (" + info.getInfo()
                        + "); only tensor inputs can be fed from a dataset");
            }
            if (!arrays.contains(name)) {
                throw new DatasetFormatException("the dataset has no array for model input '" + name + "'; it has "
                        + arrays + " (name each array <model input>.npy)");
            }
            NpyDtype wanted = dtypeFor(name, tensor.type);
            NpyDtype got = reader.dtype(name);
            if (got != wanted) {
                throw new DatasetFormatException("dataset array '" + name + "' is " + got.descr() + " but model input '"
                        + name + "' takes " + tensor.type + " (" + wanted.descr() + ")");
            }
            long[] modelShape = tensor.getShape();
            long[] dataShape = reader.shape(name);
            if (dataShape.length != modelShape.length) {
                throw new DatasetFormatException("dataset array '" + name + "' has samples of shape "
                        + Arrays.toString(Arrays.copyOfRange(dataShape, 1, dataShape.length)) + " (rank " + dataShape.length
                        + " with the sample axis) but model input '" + name + "' has rank " + modelShape.length + " "
                        + describe(modelShape));
            }
            for (int axis = 1; axis < modelShape.length; axis++) {
                if (modelShape[axis] > 0 && modelShape[axis] != dataShape[axis]) {
                    throw new DatasetFormatException("dataset array '" + name + "' has " + dataShape[axis] + " on axis "
                            + axis + " but model input '" + name + "' needs " + modelShape[axis] + " there: samples are "
                            + Arrays.toString(Arrays.copyOfRange(dataShape, 1, dataShape.length)) + ", model wants "
                            + describe(modelShape));
                }
            }
        }
    }

    private static String describe(long[] shape) {
        List<String> dims = new ArrayList<>();
        for (long d : shape) {
            dims.add(d > 0 ? Long.toString(d) : "?");
        }
        return "[" + String.join(", ", dims) + "]";
    }

    private static NpyDtype dtypeFor(String name, OnnxJavaType type) {
        return switch (type) {
            case FLOAT -> NpyDtype.FLOAT32;
            case DOUBLE -> NpyDtype.FLOAT64;
            case INT64 -> NpyDtype.INT64;
            case INT32 -> NpyDtype.INT32;
            case UINT8 -> NpyDtype.UINT8;
            default -> throw new DatasetFormatException("model input '" + name + "' takes " + type
                    + ", which datasets cannot hold (they hold float32, float64, int64, int32 and uint8)");
        };
    }

    public long total() {
        return total;
    }

    public long position() {
        return position;
    }

    public boolean hasNext() {
        return position < total;
    }

    /** Skips samples without building tensors (to resume after {@code samples} were processed). */
    public void skip(long samples) {
        while (position < samples && position < total) {
            int size = 0;
            for (NpyBatches stream : streams.values()) {
                size = (int) stream.next().sampleCount();
            }
            position += size;
        }
    }

    public Batch next() throws OrtException {
        if (!hasNext()) {
            throw new java.util.NoSuchElementException("all " + total + " samples were fed");
        }
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        int size = 0;
        for (Map.Entry<String, NpyBatches> stream : streams.entrySet()) {
            NpyArray array = stream.getValue().next();
            size = (int) array.sampleCount();
            arrays.put(stream.getKey(), array);
        }
        if (position + size > total) {
            // the sample limit cuts this batch short
            int[] kept = new int[(int) (total - position)];
            for (int i = 0; i < kept.length; i++) {
                kept[i] = i;
            }
            arrays.replaceAll((name, array) -> array.takeSamples(kept));
            size = kept.length;
        }
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, NpyArray> array : arrays.entrySet()) {
                tensors.put(array.getKey(), tensor(array.getValue()));
            }
        } catch (OrtException | RuntimeException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
        long first = position;
        position += size;
        Optional<long[]> batchLabels = labels == null ? Optional.empty()
                : Optional.of(Arrays.copyOfRange(labels, (int) first, (int) first + size));
        return new Batch(tensors, first, size, batchLabels);
    }

    private OnnxTensor tensor(NpyArray array) throws OrtException {
        long[] shape = array.shape();
        return switch (array.dtype()) {
            case FLOAT32 -> OnnxTensor.createTensor(env, array.buffer().asFloatBuffer(), shape);
            case FLOAT64 -> OnnxTensor.createTensor(env, array.buffer().asDoubleBuffer(), shape);
            case INT64 -> OnnxTensor.createTensor(env, array.buffer().asLongBuffer(), shape);
            case INT32 -> OnnxTensor.createTensor(env, array.buffer().asIntBuffer(), shape);
            case UINT8 -> OnnxTensor.createTensor(env, array.buffer(), shape, OnnxJavaType.UINT8);
        };
    }

    @Override
    public void close() throws IOException {
        for (NpyBatches stream : streams.values()) {
            stream.close();
        }
    }
}
