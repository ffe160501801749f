package dev.anvil.modelkit.compress;

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
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The mean absolute activation of each channel (axis 1: Conv's NCHW channels, Gemm's neurons) of some
 * intermediate tensors, and the signed mean of each of their elements (what a removed channel's consumer is owed in
 * its bias), measured by running a copy of the model in ONNX Runtime with those tensors added as graph outputs over
 * the first {@code samples} samples of a dataset (at most {@link #MAX_SAMPLES}). The samples are read in order and
 * summed in double precision, so the same model and dataset give the same figures.
 */
public final class ChannelActivations {
    /** More samples than this add little to a per-channel mean and cost a full inference each. */
    public static final int MAX_SAMPLES = 256;

    private static final int BATCH = 32;

    private final OrtEnvironment env;
    private final DatasetReader dataset;
    private final int samples;

    /** @param samples how many of the dataset's first samples to run (1 to {@link #MAX_SAMPLES}) */
    public ChannelActivations(OrtEnvironment env, DatasetReader dataset, int samples) {
        if (samples < 1 || samples > MAX_SAMPLES) {
            throw new IllegalArgumentException("activation samples must be 1 to " + MAX_SAMPLES + ", got " + samples);
        }
        this.env = env;
        this.dataset = dataset;
        this.samples = samples;
    }

    /**
     * What was measured, per tensor: the mean |a| of each channel, and the signed mean of each element of one sample
     * (channel-major: {@code [channels × the rest]}, e.g. C·H·W for NCHW), over the samples it was measured on.
     */
    public record Measured(Map<String, double[]> meanAbs, Map<String, double[]> mean, long samples) {}

    /** Measures {@code tensors} of {@code model} (not modified). */
    public Measured measure(OnnxModel model, Set<String> tensors) throws IOException, OrtException {
        Map<String, double[]> sums = new LinkedHashMap<>();
        Map<String, double[]> elementSums = new LinkedHashMap<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        long done = 0;
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = OrtSessions.open(env, model.withFloatOutputs(tensors), so);
                DatasetFeed feed = DatasetFeed.open(env, session, dataset, BATCH, samples)) {
            Set<String> wanted = new LinkedHashSet<>(tensors);
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next(); OrtSession.Result result = batch.run(session, wanted)) {
                    for (Map.Entry<String, OnnxValue> out : result) {
                        if (tensors.contains(out.getKey()) && out.getValue() instanceof OnnxTensor tensor) {
                            add(out.getKey(), tensor, sums, elementSums, counts);
                        }
                    }
                }
                done = feed.position();
            }
        }
        Map<String, double[]> means = new LinkedHashMap<>();
        Map<String, double[]> elementMeans = new LinkedHashMap<>();
        for (String t : tensors) {
            double[] sum = sums.get(t);
            if (sum == null) {
                throw new IllegalStateException("tensor '" + t + "' was not produced by ONNX Runtime");
            }
            double n = counts.get(t);
            double[] mean = new double[sum.length];
            for (int c = 0; c < sum.length; c++) {
                mean[c] = sum[c] / n;
            }
            means.put(t, mean);
            double[] elements = elementSums.get(t);
            double rows = n / (elements.length / sum.length); // the samples
            double[] elementMean = new double[elements.length];
            for (int i = 0; i < elements.length; i++) {
                elementMean[i] = elements[i] / rows;
            }
            elementMeans.put(t, elementMean);
        }
        return new Measured(means, elementMeans, done);
    }

    private static void add(String name, OnnxTensor tensor, Map<String, double[]> sums,
            Map<String, double[]> elementSums, Map<String, Long> counts) {
        long[] shape = tensor.getInfo().getShape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + java.util.Arrays.toString(shape)
                    + "; channel activations need [batch, channels, ...]");
        }
        int channels = (int) shape[1];
        long inner = 1;
        for (int d = 2; d < shape.length; d++) {
            inner *= shape[d];
        }
        double[] sum = sums.computeIfAbsent(name, k -> new double[channels]);
        if (sum.length != channels) {
            throw new IllegalArgumentException("tensor '" + name + "' changed from " + sum.length + " to " + channels
                    + " channels between batches");
        }
        int perSample = (int) (channels * inner);
        double[] elementSum = elementSums.computeIfAbsent(name, k -> new double[perSample]);
        if (elementSum.length != perSample) {
            throw new IllegalArgumentException("tensor '" + name + "' changed from " + elementSum.length + " to "
                    + perSample + " values per sample between batches");
        }
        FloatBuffer values = tensor.getFloatBuffer();
        int n = values.remaining();
        for (int i = 0; i < n; i++) {
            float v = values.get(i);
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("tensor '" + name + "' is not finite on this dataset; activation"
                        + " importance needs data that keeps the model finite");
            }
            sum[(int) ((i / inner) % channels)] += Math.abs(v);
            elementSum[i % perSample] += v;
        }
        counts.merge(name, n / (long) channels, Long::sum);
    }

}
