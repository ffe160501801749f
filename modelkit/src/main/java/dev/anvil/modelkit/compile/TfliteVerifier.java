package dev.anvil.modelkit.compile;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs a compiled .tflite in the TFLite interpreter and its ONNX source in ONNX Runtime FP32 (the reference) on the
 * same samples, batch 1, and compares output 0: top-1 agreement, accuracy against labels when given, and the largest
 * absolute difference.
 */
public final class TfliteVerifier {
    /** What the comparison measured. Accuracies are NaN without labels. */
    public record Report(int samples, double top1Agreement, double maxAbsError, double maxAbsErrorProbabilities,
            double referenceAccuracy, double candidateAccuracy) {
        /** Reference minus candidate accuracy, in percentage points. */
        public double accuracyDropPoints() {
            return 100 * (referenceAccuracy - candidateAccuracy);
        }
    }

    /** A compiled model under test: output 0 (flattened) for one batch-1 sample in the ONNX layout. */
    @FunctionalInterface
    public interface Candidate {
        float[] run(float[] sample, int[] shape) throws Exception;
    }

    private TfliteVerifier() {}

    /**
     * Compares on {@code samples} (each one input of {@code shape}, batch 1, the ONNX layout); {@code labels} may be
     * null. When the model's output is a LogSoftmax, {@link Report#maxAbsErrorProbabilities} compares exp() of
     * the outputs (probabilities); otherwise it equals {@link Report#maxAbsError}.
     */
    public static Report compare(Path onnx, Path tflite, List<float[]> samples, int[] shape, int[] labels)
            throws OrtException, java.io.IOException {
        try (TfliteRunner runner = new TfliteRunner(tflite, 1)) {
            return compare(onnx, runner::run, "TFLite", samples, shape, labels);
        }
    }

    /**
     * The same comparison against any runtime ({@code candidate}, named {@code runtime} in messages), e.g. a
     * TensorRT engine.
     */
    public static Report compare(Path onnx, Candidate candidate, String runtime, List<float[]> samples, int[] shape,
            int[] labels) throws OrtException, java.io.IOException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        int agree = 0, refCorrect = 0, candCorrect = 0;
        double maxAbs = 0, maxProb = 0;
        boolean logProbs = outputIsLogSoftmax(onnx);
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession session = dev.anvil.modelkit.onnx.OrtSessions.open(env, onnx, opts)) {
                String input = session.getInputNames().iterator().next();
                for (int s = 0; s < samples.size(); s++) {
                    float[] x = samples.get(s);
                    float[] ref;
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), dims);
                            OrtSession.Result r = session.run(Map.of(input, t))) {
                        ref = flatten(r.get(0).getValue());
                    }
                    float[] cand;
                    try {
                        cand = candidate.run(x, shape);
                    } catch (OrtException | java.io.IOException | RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new IllegalStateException(runtime + " failed on sample " + s + ": " + e.getMessage(), e);
                    }
                    if (cand.length != ref.length) {
                        throw new IllegalStateException("the " + runtime + " output has " + cand.length
                                + " values, ONNX " + ref.length);
                    }
                    for (int i = 0; i < ref.length; i++) {
                        maxAbs = Math.max(maxAbs, Math.abs(ref[i] - cand[i]));
                        if (logProbs) {
                            maxProb = Math.max(maxProb, Math.abs(Math.exp(ref[i]) - Math.exp(cand[i])));
                        }
                    }
                    int rt = argmax(ref), ct = argmax(cand);
                    agree += rt == ct ? 1 : 0;
                    if (labels != null) {
                        refCorrect += rt == labels[s] ? 1 : 0;
                        candCorrect += ct == labels[s] ? 1 : 0;
                    }
                }
            }
        }
        int n = samples.size();
        double nan = Double.NaN;
        return new Report(n, (double) agree / n, maxAbs, logProbs ? maxProb : maxAbs, labels == null ? nan : (double) refCorrect / n,
                labels == null ? nan : (double) candCorrect / n);
    }

    private static boolean outputIsLogSoftmax(Path onnx) {
        try {
            dev.anvil.modelkit.onnx.OnnxModel m = dev.anvil.modelkit.onnx.OnnxModel.read(onnx);
            String out = m.graph().proto().getOutput(0).getName();
            return m.graph().producer(out).map(p -> p.getOpType().equals("LogSoftmax")).orElse(false);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static float[] flatten(Object value) {
        if (value instanceof float[] f) {
            return f;
        }
        if (value instanceof float[][] f2) {
            int n = 0;
            for (float[] row : f2) {
                n += row.length;
            }
            float[] out = new float[n];
            int o = 0;
            for (float[] row : f2) {
                System.arraycopy(row, 0, out, o, row.length);
                o += row.length;
            }
            return out;
        }
        if (value instanceof Object[] arr) {
            java.util.List<float[]> parts = new java.util.ArrayList<>();
            int n = 0;
            for (Object o : arr) {
                float[] p = flatten(o);
                parts.add(p);
                n += p.length;
            }
            float[] out = new float[n];
            int o = 0;
            for (float[] p : parts) {
                System.arraycopy(p, 0, out, o, p.length);
                o += p.length;
            }
            return out;
        }
        throw new IllegalStateException("output 0 is not a float tensor");
    }
}
