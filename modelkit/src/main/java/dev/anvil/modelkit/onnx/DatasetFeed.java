package dev.anvil.modelkit.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetManifest;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.datasets.NpyBatches;
import dev.anvil.modelkit.datasets.NpyDtype;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Feeds a dataset artifact to an ONNX Runtime session batch by batch: memory is bounded by one batch,
 * not by the dataset. Opening checks the dataset against the model's inputs (every input present, dtype
 * and shape equal, each batched input's samples placed on its declared batch axis) and names the first
 * mismatch, so bad data fails before any work.
 *
 * <p>Run each batch with {@link Batch#run(OrtSession, Set)} rather than {@code session.run(batch.inputs(), ...)}:
 * for a stateful dataset (see {@link DatasetManifest}) it feeds the state the same session produced at the step
 * before and keeps the state outputs it returns; for any other dataset it is exactly {@code session.run}. State is
 * kept per session, so two models run over one feed (a candidate and its reference) each carry their own.
 */
public final class DatasetFeed implements AutoCloseable {
    private final OrtEnvironment env;
    private final DatasetReader dataset;
    private final DatasetManifest manifest;
    private final Map<String, NodeInfo> modelInputs;
    private final Map<String, NpyBatches> streams = new LinkedHashMap<>();
    private final Map<String, NpyArray> constants = new LinkedHashMap<>();
    private final Map<String, NpyArray> zeroStates = new LinkedHashMap<>();
    private final Map<OrtSession, StateChain> chains = new IdentityHashMap<>();
    private final long[] labels;
    private final long total;
    private final int batchSize;
    private long position;

    /** The state one session carries from a step to the next: the values to feed at sample {@code next}. */
    private static final class StateChain {
        long next = -1;
        Map<String, NpyArray> values = Map.of();
    }

    /**
     * A batch of inputs as ORT tensors (closed with the batch), where it starts, and its labels if the dataset has
     * them. {@link #inputs()} holds the dataset's values; {@link #run} adds the state a stateful model needs.
     */
    public static final class Batch implements AutoCloseable {
        private final DatasetFeed feed;
        private final Map<String, OnnxTensor> inputs;
        private final long firstSample;
        private final int size;
        private final Optional<long[]> labels;
        private final List<OnnxTensor> fedState = new ArrayList<>();

        Batch(DatasetFeed feed, Map<String, OnnxTensor> inputs, long firstSample, int size, Optional<long[]> labels) {
            this.feed = feed;
            this.inputs = inputs;
            this.firstSample = firstSample;
            this.size = size;
            this.labels = labels;
        }

        public Map<String, OnnxTensor> inputs() {
            return inputs;
        }

        public long firstSample() {
            return firstSample;
        }

        public int size() {
            return size;
        }

        public Optional<long[]> labels() {
            return labels;
        }

        /**
         * Runs {@code session} on this batch and returns {@code outputs} first, in that order (state outputs the
         * caller did not ask for may follow). The caller closes the result.
         */
        public OrtSession.Result run(OrtSession session, Set<String> outputs) throws OrtException {
            return feed.run(this, session, outputs, Map.of(), null);
        }

        /** As {@link #run(OrtSession, Set)}, writing into {@code pinnedOutputs} as {@code OrtSession.run} does. */
        public OrtSession.Result run(OrtSession session, Set<String> outputs, Map<String, ? extends OnnxValue> pinnedOutputs,
                OrtSession.RunOptions options) throws OrtException {
            return feed.run(this, session, outputs, pinnedOutputs, options);
        }

        @Override
        public void close() {
            inputs.values().forEach(OnnxTensor::close);
            fedState.forEach(OnnxTensor::close);
        }
    }

    private DatasetFeed(OrtEnvironment env, DatasetReader dataset, Map<String, NodeInfo> modelInputs, int batchSize,
            long limit) throws IOException {
        this.env = env;
        this.dataset = dataset;
        this.manifest = dataset.manifest();
        this.modelInputs = modelInputs;
        this.total = limit > 0 ? Math.min(limit, dataset.sampleCount()) : dataset.sampleCount();
        this.batchSize = batchSize;
        try {
            for (Map.Entry<String, NodeInfo> input : modelInputs.entrySet()) {
                String name = input.getKey();
                if (!manifest.needsArray(name)) {
                    zeroStates.put(name, zeros(name, (TensorInfo) input.getValue().getInfo()));
                } else if (manifest.isBatched(name)) {
                    streams.put(name, dataset.batches(name, batchSize));
                } else {
                    constants.put(name, dataset.constant(name));
                }
            }
            if (streams.isEmpty()) {
                throw new DatasetFormatException("every input the model takes is constant in the dataset (batch_axis"
                        + " null), so there are no samples to feed; batch at least one of " + modelInputs.keySet());
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        this.labels = dataset.labels().map(NpyArray::toLongArray).orElse(null);
    }

    /**
     * Opens {@code reader} for {@code session}'s inputs. A stateful dataset is fed one sample (one step) at a time
     * whatever {@code batchSize} says.
     *
     * @param limit at most this many samples are fed (0 = all)
     * @throws DatasetFormatException when the dataset does not fit the model; the message names the array
     */
    public static DatasetFeed open(OrtEnvironment env, OrtSession session, DatasetReader reader, int batchSize, long limit)
            throws OrtException, IOException {
        check(session, reader);
        return openChecked(env, session.getInputInfo(), reader, batchSize, limit);
    }

    /**
     * As {@link #open(OrtEnvironment, OrtSession, DatasetReader, int, long)} for a model described by its inputs
     * alone (one that does not run in ONNX Runtime, e.g. a .tflite): it is fed the dataset's arrays as they are, and a
     * stateful dataset is refused, because carrying state needs the session's state outputs.
     */
    public static DatasetFeed open(OrtEnvironment env, Map<String, NodeInfo> inputs, DatasetReader reader, int batchSize,
            long limit) throws IOException {
        check(inputs, reader);
        if (reader.manifest().isStateful()) {
            throw new DatasetFormatException("the dataset is stateful (its manifest names state inputs), which only a"
                    + " model run in ONNX Runtime can be fed; measure the ONNX model instead");
        }
        return openChecked(env, inputs, reader, batchSize, limit);
    }

    private static DatasetFeed openChecked(OrtEnvironment env, Map<String, NodeInfo> inputs, DatasetReader reader,
            int batchSize, long limit) throws IOException {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        DatasetManifest manifest = reader.manifest();
        if (manifest.isStateful()) {
            batchSize = 1; // step t+1 needs the state of step t
        }
        for (NodeInfo info : inputs.values()) {
            if (!manifest.isBatched(info.getName())) {
                continue;
            }
            long[] shape = ((TensorInfo) info.getInfo()).getShape();
            int axis = manifest.batchAxis(info.getName());
            long fixed = shape.length > axis ? shape[axis] : -1;
            if (fixed > 0 && fixed != batchSize) {
                if (fixed == 1) {
                    batchSize = 1;
                } else {
                    throw new DatasetFormatException("model input '" + info.getName() + "' has a fixed batch size of "
                            + fixed + " on axis " + axis + "; only a free batch axis or a batch of 1 can be fed");
                }
            }
        }
        return new DatasetFeed(env, reader, inputs, batchSize, limit);
    }

    /** {@link #check(Map, DatasetReader)} plus the state outputs a stateful dataset names. */
    public static void check(OrtSession session, DatasetReader reader) throws OrtException {
        DatasetChecks.check(session.getInputInfo(), reader);
        DatasetChecks.checkState(session.getInputInfo(), session.getOutputInfo(), reader.manifest());
    }

    /** Checks that the dataset holds every model input with the model's dtype and shape, batch axes considered. */
    public static void check(Map<String, NodeInfo> modelInputs, DatasetReader reader) {
        DatasetChecks.check(modelInputs, reader);
    }

    private NpyArray zeros(String name, TensorInfo info) {
        long[] shape = info.getShape();
        shape[manifest.batchAxis(name)] = 1;
        NpyDtype dtype = DatasetChecks.dtypeFor(name, info.type);
        return new NpyArray(dtype, shape, new byte[Math.toIntExact(Tensors.elementCount(shape) * dtype.itemSize())]);
    }

    /**
     * Samples per batch as fed: the size asked for, or 1 where the model fixes its batch at 1 or the dataset is
     * stateful. Latency figures are per batch of this size.
     */
    public int batchSize() {
        return batchSize;
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

    /**
     * Skips samples without building tensors (to resume after {@code samples} were processed). A stateful feed
     * rebuilds the state at the resumed step on its next run, by running the model over the skipped steps of the
     * sequence.
     */
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
        arrays.replaceAll((name, array) -> array.moveFirstAxisTo(manifest.batchAxis(name)));
        arrays.putAll(constants);
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (String input : modelInputs.keySet()) {
                NpyArray array = arrays.get(input);
                if (array != null) {
                    tensors.put(input, tensor(array));
                }
            }
        } catch (OrtException | RuntimeException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
        long first = position;
        position += size;
        Optional<long[]> batchLabels = labels == null ? Optional.empty()
                : Optional.of(Arrays.copyOfRange(labels, (int) first, (int) first + size));
        return new Batch(this, tensors, first, size, batchLabels);
    }

    private OrtSession.Result run(Batch batch, OrtSession session, Set<String> outputs,
            Map<String, ? extends OnnxValue> pinned, OrtSession.RunOptions options) throws OrtException {
        if (!manifest.isStateful()) {
            return invoke(session, batch.inputs(), outputs, pinned, options);
        }
        StateChain chain = chains.get(session);
        if (chain == null) {
            check(session, dataset); // a second model run over this feed (a reference) needs its own outputs checked
            chain = new StateChain();
            chains.put(session, chain);
        }
        if (chain.next != batch.firstSample() && !isSequenceStart(batch.firstSample())) {
            chain.values = replay(session, batch.firstSample());
        }
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>(batch.inputs());
        boolean start = isSequenceStart(batch.firstSample());
        for (String input : manifest.state().keySet()) {
            NpyArray value = start ? zeroStates.get(input) : chain.values.get(input);
            if (value != null) {
                OnnxTensor tensor = tensor(value);
                batch.fedState.add(tensor);
                inputs.put(input, tensor);
            } // else: the first step of a sequence takes the dataset's value, already among the inputs
        }
        Set<String> requested = new LinkedHashSet<>(outputs);
        manifest.state().values().forEach(s -> {
            if (!pinned.containsKey(s.output())) {
                requested.add(s.output());
            }
        });
        OrtSession.Result result = invoke(session, inputs, requested, pinned, options);
        try {
            Map<String, NpyArray> next = new LinkedHashMap<>();
            for (Map.Entry<String, DatasetManifest.State> state : manifest.state().entrySet()) {
                String output = state.getValue().output();
                OnnxValue value = result.get(output).orElseGet(() -> pinned.get(output));
                NpyArray produced = copy(output, (OnnxTensor) value);
                long[] fed = inputs.get(state.getKey()).getInfo().getShape();
                if (!Arrays.equals(fed, produced.shape())) {
                    throw new DatasetFormatException("state output '" + output + "' came out as "
                            + Arrays.toString(produced.shape()) + " at sample " + batch.firstSample() + " but input '"
                            + state.getKey() + "' was fed " + Arrays.toString(fed)
                            + "; the output of one step must fit the input of the next");
                }
                next.put(state.getKey(), produced);
            }
            chain.values = next;
            chain.next = batch.firstSample() + batch.size();
            return result;
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
    }

    private static OrtSession.Result invoke(OrtSession session, Map<String, OnnxTensor> inputs, Set<String> outputs,
            Map<String, ? extends OnnxValue> pinned, OrtSession.RunOptions options) throws OrtException {
        if (pinned.isEmpty() && options == null) {
            return session.run(inputs, outputs);
        }
        return options == null ? session.run(inputs, outputs, pinned) : session.run(inputs, outputs, pinned, options);
    }

    private boolean isSequenceStart(long sample) {
        return sample == 0 || manifest.sequenceLength().isPresent() && sample % manifest.sequenceLength().getAsInt() == 0;
    }

    /**
     * The state {@code session} would carry into {@code sample} had it run every step of the sequence before it:
     * after a {@link #skip}, the steps from the sequence's start are run again, one at a time.
     */
    private Map<String, NpyArray> replay(OrtSession session, long sample) throws OrtException {
        long start = manifest.sequenceLength().isPresent()
                ? sample - sample % manifest.sequenceLength().getAsInt() : 0;
        try (DatasetFeed steps = new DatasetFeed(env, dataset, modelInputs, 1, sample)) {
            steps.skip(start);
            while (steps.hasNext()) {
                try (Batch step = steps.next(); OrtSession.Result ignored = step.run(session, Set.of())) {
                    // only the state it leaves behind matters
                }
            }
            return steps.chains.get(session).values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy of an output in the dataset's little-endian layout, so the next run cannot overwrite it. */
    private static NpyArray copy(String name, OnnxTensor tensor) {
        NpyDtype dtype = DatasetChecks.dtypeFor(name, tensor.getInfo().type);
        ByteBuffer data = tensor.getByteBuffer().order(ByteOrder.nativeOrder());
        ByteBuffer little = ByteBuffer.allocate(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype.itemSize()) {
            case 1 -> little.put(data);
            case 2 -> little.asShortBuffer().put(data.asShortBuffer());
            case 4 -> little.asIntBuffer().put(data.asIntBuffer());
            default -> little.asLongBuffer().put(data.asLongBuffer());
        }
        return new NpyArray(dtype, tensor.getInfo().getShape(), little.array());
    }

    private OnnxTensor tensor(NpyArray array) throws OrtException {
        long[] shape = array.shape();
        return switch (array.dtype()) {
            case FLOAT32 -> OnnxTensor.createTensor(env, array.buffer().asFloatBuffer(), shape);
            case FLOAT64 -> OnnxTensor.createTensor(env, array.buffer().asDoubleBuffer(), shape);
            case INT64 -> OnnxTensor.createTensor(env, array.buffer().asLongBuffer(), shape);
            case INT32 -> OnnxTensor.createTensor(env, array.buffer().asIntBuffer(), shape);
            case UINT8 -> OnnxTensor.createTensor(env, array.buffer(), shape, OnnxJavaType.UINT8);
            case BOOL -> OnnxTensor.createTensor(env, array.buffer(), shape, OnnxJavaType.BOOL);
            case FLOAT16 -> OnnxTensor.createTensor(env, array.buffer().asShortBuffer(), shape, OnnxJavaType.FLOAT16);
        };
    }

    @Override
    public void close() throws IOException {
        for (NpyBatches stream : streams.values()) {
            stream.close();
        }
    }
}
