package dev.anvil.modelkit.quantize;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Measures activation ranges: runs the float model in ONNX Runtime with the wanted intermediate tensors
 * exposed as extra outputs, streams the dataset batch by batch, and folds every batch into per-tensor
 * {@link TensorStats}. Progress (and a resumable state) is reported after every batch.
 */
public final class Calibrator {
    private final OrtEnvironment env;

    public Calibrator(OrtEnvironment env) {
        this.env = env;
    }

    /** Where calibration stands: samples done and the statistics so far (enough to resume). */
    public record State(long samplesDone, Map<String, TensorStats.Snapshot> stats) {}

    /** Told after every batch; it may save the state so a retry can resume from it. */
    public interface Progress {
        void batchDone(long samplesDone, long total, java.util.function.Supplier<State> state) throws IOException;
    }

    /**
     * @param stats what calibration saw per tensor; {@link #tableFor} picks another method's ranges from it
     *     without running the model again
     */
    public record Result(CalibrationTable table, long samples, double seconds, Map<String, TensorStats> stats) {
        public Result(CalibrationTable table, long samples, double seconds) {
            this(table, samples, seconds, Map.of());
        }

        /**
         * The ranges {@code options.method()} chooses from the same statistics. Percentile and entropy need
         * the histograms that only a percentile or entropy calibration keeps (minmax keeps none).
         */
        public CalibrationTable tableFor(QuantizeOptions options) {
            if (options.method() != CalibrationMethod.MINMAX
                    && stats.values().stream().anyMatch(s -> s.count() > 0 && !s.hasHistogram())) {
                throw new IllegalStateException(options.method().wireName() + " ranges need histograms; calibrate"
                        + " with percentile or entropy to choose among methods afterwards");
            }
            return Calibrator.table(table.modelSha256(), options, samples, stats);
        }
    }

    /**
     * @param model   the float model (not modified)
     * @param tensors float tensors whose ranges are wanted
     * @param resume  a state saved by an earlier attempt, to continue from
     */
    public Result calibrate(OnnxModel model, String modelSha256, Set<String> tensors, DatasetReader dataset,
            QuantizeOptions options, Optional<State> resume, Progress progress) throws OrtException, IOException {
        return calibrate(model, modelSha256, tensors, Set.of(), dataset, options, resume, progress);
    }

    /** @param channelTensors tensors whose per-channel (last axis) min and max are also kept */
    public Result calibrate(OnnxModel model, String modelSha256, Set<String> tensors, Set<String> channelTensors,
            DatasetReader dataset, QuantizeOptions options, Optional<State> resume, Progress progress)
            throws OrtException, IOException {
        long started = System.nanoTime();
        ModelProto augmented = model.withFloatOutputs(tensors);
        int bins = options.method() == CalibrationMethod.MINMAX ? 0 : TensorStats.DEFAULT_BINS;
        Map<String, TensorStats> stats = new LinkedHashMap<>();
        for (String t : tensors) {
            TensorStats.Snapshot saved = resume.map(s -> s.stats().get(t)).orElse(null);
            TensorStats fresh = new TensorStats(bins);
            if (channelTensors.contains(t)) {
                fresh.withChannels();
            }
            stats.put(t, saved != null ? TensorStats.restore(saved) : fresh);
        }
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = OrtSessions.open(env, augmented, so);
                    DatasetFeed feed = DatasetFeed.open(env, session, dataset, options.batchSize(),
                            options.calibrationSamples())) {
                long done = resume.map(State::samplesDone).orElse(0L);
                feed.skip(done);
                Set<String> wanted = new LinkedHashSet<>(tensors);
                try (OutputBuffers buffers = new OutputBuffers(env)) {
                    while (feed.hasNext()) {
                        try (DatasetFeed.Batch batch = feed.next();
                                OrtSession.Result result = buffers.run(session, batch, wanted)) {
                            List<Map.Entry<String, OnnxValue>> outputs = new ArrayList<>();
                            result.forEach(outputs::add);
                            // tensors are independent: fold them in parallel (each TensorStats is touched by one thread)
                            outputs.parallelStream().forEach(out -> {
                                TensorStats s = stats.get(out.getKey());
                                if (s != null && out.getValue() instanceof OnnxTensor tensor) {
                                    try {
                                        long[] shape = tensor.getInfo().getShape();
                                        s.add(buffers.read(out.getKey(), tensor),
                                                shape.length == 0 ? 0 : (int) shape[shape.length - 1]);
                                    } catch (IllegalArgumentException e) {
                                        throw new IllegalArgumentException("tensor '" + out.getKey() + "' " + e.getMessage()
                                                + " on samples " + batch.firstSample() + ".."
                                                + (batch.firstSample() + batch.size() - 1)
                                                + "; calibration data must keep the model finite", e);
                                    }
                                }
                            });
                            done = feed.position();
                        }
                        long snapshotAt = done;
                        progress.batchDone(done, feed.total(), () -> snapshot(snapshotAt, stats));
                    }
                }
                CalibrationTable table = table(modelSha256, options, done, stats);
                return new Result(table, done, (System.nanoTime() - started) / 1e9, stats);
            }
        }
    }

    private static State snapshot(long done, Map<String, TensorStats> stats) {
        Map<String, TensorStats.Snapshot> snaps = new LinkedHashMap<>();
        stats.forEach((k, v) -> snaps.put(k, v.snapshot()));
        return new State(done, snaps);
    }

    static CalibrationTable table(String modelSha256, QuantizeOptions options, long samples,
            Map<String, TensorStats> stats) {
        Map<String, CalibrationTable.Range> ranges = new LinkedHashMap<>();
        boolean unsignedLevels = options.activationType() == QuantType.U8 && !options.symmetricActivations();
        for (Map.Entry<String, TensorStats> e : stats.entrySet()) {
            TensorStats s = e.getValue();
            if (s.count() == 0) {
                continue;
            }
            double[] range = switch (options.method()) {
                case MINMAX -> new double[] {s.min(), s.max()};
                case PERCENTILE -> s.percentileRange(options.percentile());
                // a tensor that never goes negative uses all 256 levels on [0, t]; others 128 per side
                case ENTROPY -> s.entropyRange(s.min() >= 0 && unsignedLevels ? 256 : 128);
            };
            ranges.put(e.getKey(), new CalibrationTable.Range(range[0], range[1], s.min(), s.max(), s.channelMin(),
                    s.channelMax()));
        }
        Double percentile = options.method() == CalibrationMethod.PERCENTILE ? options.percentile() : null;
        return new CalibrationTable(CalibrationTable.FORMAT, modelSha256, options.method().wireName(), percentile, samples,
                ranges);
    }


    /**
     * Output tensors that ONNX Runtime writes into on every full batch, so calibration reads intermediate
     * tensors in place instead of copying each one out of native memory per batch. Shapes are learnt
     * from the first batch (run the ordinary way); a float tensor whose shape then stays the same is
     * pinned in a direct buffer for the batches that follow (graph inputs are not: ONNX Runtime returns
     * them without writing to a buffer). A batch of another size (the last one) or a
     * run that refuses the pinned shapes (a data-dependent shape) is run the ordinary way, and pinning
     * stops after such a refusal. Memory stays at one batch of outputs.
     */
    static final class OutputBuffers implements AutoCloseable {
        private final OrtEnvironment env;
        private final Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
        // kept beside the tensors, not read back with OnnxTensor.getBufferRef(): in ONNX Runtime 1.29 that
        // throws a NullPointerException for tensors ORT allocated itself (every unpinned output)
        private final Map<String, FloatBuffer> views = new LinkedHashMap<>();
        private int pinnedBatch = -1;
        private boolean refused;

        OutputBuffers(OrtEnvironment env) {
            this.env = env;
        }

        OrtSession.Result run(OrtSession session, DatasetFeed.Batch batch, Set<String> wanted) throws OrtException {
            if (!refused && batch.size() == pinnedBatch) {
                Set<String> rest = new LinkedHashSet<>(wanted);
                rest.removeAll(pinned.keySet());
                try (OrtSession.RunOptions quiet = new OrtSession.RunOptions()) {
                    // a refused shape is expected here, not an error worth ONNX Runtime's log
                    quiet.setLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
                    return batch.run(session, rest, pinned, quiet);
                } catch (OrtException e) {
                    refused = true; // rerun unpinned: a genuine model failure surfaces there with its own message
                }
            }
            OrtSession.Result result = batch.run(session, wanted);
            if (pinnedBatch < 0 && !refused) {
                pin(result, batch.size(), session.getInputNames());
            }
            return result;
        }

        private void pin(OrtSession.Result result, int batchSize, Set<String> graphInputs) throws OrtException {
            pinnedBatch = batchSize;
            for (Map.Entry<String, OnnxValue> out : result) {
                // a graph input asked for as an output is handed back as it is, never written to a buffer
                if (!graphInputs.contains(out.getKey()) && out.getValue() instanceof OnnxTensor tensor
                        && tensor.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
                    long[] shape = tensor.getInfo().getShape();
                    long elements = tensor.getInfo().getNumElements();
                    if (elements == 0 || elements > Integer.MAX_VALUE / Float.BYTES) {
                        continue;
                    }
                    FloatBuffer buffer = ByteBuffer.allocateDirect((int) elements * Float.BYTES)
                            .order(ByteOrder.nativeOrder()).asFloatBuffer();
                    pinned.put(out.getKey(), OnnxTensor.createTensor(env, buffer, shape));
                    views.put(out.getKey(), buffer);
                }
            }
        }

        /** The tensor's values: the pinned buffer itself when ORT wrote there, else a copy ORT hands out. */
        FloatBuffer read(String name, OnnxTensor tensor) {
            FloatBuffer view = views.get(name);
            if (view != null && pinned.get(name) == tensor) {
                return view.duplicate().clear();
            }
            return tensor.getFloatBuffer();
        }

        @Override
        public void close() {
            pinned.values().forEach(OnnxTensor::close);
        }
    }
}
