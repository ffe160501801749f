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
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The Gram matrix XᵀX of some intermediate tensors over a calibration dataset: X has one row per vector along the
 * tensor's last axis (a token's hidden state, a Gemm input's row), so XᵀX is d×d for a tensor whose last axis is d.
 * A copy of the model runs in ONNX Runtime with those tensors added as graph outputs, in batches of 32. Where the
 * model takes an {@code attention_mask} input [batch, sequence] and a tensor's leading axes are [batch, sequence],
 * padded positions (mask 0) are left out: what a model computes there is never read. Sums are in double
 * precision in sample order, so the same model and data give the same matrices.
 */
public final class InputGrams {
    /** More samples than this add little to a d×d second moment at MiniLM's widths, and cost an inference each. */
    public static final int MAX_SAMPLES = 1024;

    static final String ATTENTION_MASK = "attention_mask";
    private static final int BATCH = 32;
    private static final int BLOCK = 32;

    private InputGrams() {}

    /** XᵀX (d×d, row-major, symmetric) over {@code rows} vectors. */
    public record Gram(int d, double[] g, long rows) {}

    /**
     * Measures {@code tensors} of {@code model} (not modified) over the first {@code samples} samples of
     * {@code dataset}.
     *
     * @throws IllegalArgumentException when a tensor is not float, not finite, or its width changes between batches
     */
    public static Map<String, Gram> measure(OrtEnvironment env, OnnxModel model, Set<String> tensors,
            DatasetReader dataset, int samples) throws IOException, OrtException {
        if (samples < 1 || samples > MAX_SAMPLES) {
            throw new IllegalArgumentException("calibration samples must be 1 to " + MAX_SAMPLES + ", got " + samples);
        }
        Map<String, double[]> sums = new LinkedHashMap<>();
        Map<String, Integer> widths = new LinkedHashMap<>();
        Map<String, Long> rows = new LinkedHashMap<>();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession session = OrtSessions.open(env, model.withFloatOutputs(tensors), so);
                DatasetFeed feed = DatasetFeed.open(env, session, dataset, BATCH, samples)) {
            Set<String> wanted = new LinkedHashSet<>(tensors);
            while (feed.hasNext()) {
                try (DatasetFeed.Batch batch = feed.next(); OrtSession.Result result = batch.run(session, wanted)) {
                    long[] mask = mask(batch);
                    for (Map.Entry<String, OnnxValue> out : result) {
                        if (tensors.contains(out.getKey()) && out.getValue() instanceof OnnxTensor tensor) {
                            add(out.getKey(), tensor, mask, batch.size(), sums, widths, rows);
                        }
                    }
                }
            }
        }
        Map<String, Gram> grams = new LinkedHashMap<>();
        for (String t : tensors) {
            double[] g = sums.get(t);
            if (g == null) {
                throw new IllegalStateException("tensor '" + t + "' was not produced by ONNX Runtime");
            }
            int d = widths.get(t);
            for (int i = 0; i < d; i++) { // mirror the upper triangle
                for (int j = 0; j < i; j++) {
                    g[i * d + j] = g[j * d + i];
                }
            }
            grams.put(t, new Gram(d, g, rows.get(t)));
        }
        return grams;
    }

    static long[] mask(DatasetFeed.Batch batch) {
        OnnxTensor m = batch.inputs().get(ATTENTION_MASK);
        if (m == null || m.getInfo().getShape().length != 2 || m.getInfo().type != ai.onnxruntime.OnnxJavaType.INT64) {
            return null;
        }
        LongBuffer buffer = m.getLongBuffer();
        long[] out = new long[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static void add(String name, OnnxTensor tensor, long[] mask, int batchSize, Map<String, double[]> sums,
            Map<String, Integer> widths, Map<String, Long> rows) {
        if (tensor.getInfo().type != ai.onnxruntime.OnnxJavaType.FLOAT) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + tensor.getInfo().type
                    + ", not float; activation-aware factorisation needs float layer inputs");
        }
        long[] shape = tensor.getInfo().getShape();
        int d = (int) shape[shape.length - 1];
        Integer known = widths.putIfAbsent(name, d);
        if (known != null && known != d) {
            throw new IllegalArgumentException("tensor '" + name + "' changed from width " + known + " to " + d
                    + " between batches");
        }
        double[] g = sums.computeIfAbsent(name, k -> new double[d * d]);
        FloatBuffer values = tensor.getFloatBuffer();
        int n = values.remaining() / d;
        // a [batch, sequence, …, d] tensor whose first two axes are the mask's: one mask value per row of the first
        // two axes, the axes between repeat it
        boolean masked = mask != null && shape.length >= 3 && shape[0] == batchSize
                && shape[0] * shape[1] == mask.length;
        long perPosition = masked ? n / mask.length : 1;
        double[] block = new double[BLOCK * d];
        int filled = 0;
        long kept = 0;
        float[] row = new float[d];
        for (int r = 0; r < n; r++) {
            if (masked && mask[(int) (r / perPosition)] == 0) {
                continue;
            }
            values.get(r * d, row);
            for (int k = 0; k < d; k++) {
                if (!Float.isFinite(row[k])) {
                    throw new IllegalArgumentException("tensor '" + name + "' is not finite on this dataset;"
                            + " activation-aware factorisation needs data that keeps the model finite");
                }
                block[filled * d + k] = row[k];
            }
            kept++;
            if (++filled == BLOCK) {
                accumulate(g, block, filled, d);
                filled = 0;
            }
        }
        accumulate(g, block, filled, d);
        rows.merge(name, kept, Long::sum);
    }

    /** g (upper triangle) += Bᵀ·B for the first {@code count} rows of the block; g's row stays in cache. */
    static void accumulate(double[] g, double[] block, int count, int d) {
        for (int j = 0; j < d; j++) {
            int gj = j * d;
            for (int r = 0; r < count; r++) {
                int br = r * d;
                double a = block[br + j];
                if (a == 0) {
                    continue;
                }
                for (int k = j; k < d; k++) {
                    g[gj + k] += a * block[br + k];
                }
            }
        }
    }

}
