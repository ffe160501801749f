package dev.anvil.modelkit.compile.tensorrt;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.compile.TfliteVerifier;
import dev.anvil.modelkit.onnx.OrtSessions;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Runs a TensorRT engine on samples against its float ONNX source in ONNX Runtime FP32 (CPU, one thread), batch 1:
 * the comparison of {@link TfliteVerifier} (top-1 agreement, accuracy, max abs error) plus each side's latency
 * per sample. Latencies are measured here because the engine's exist only where it runs; they are single runs on
 * a worker that may be busy, reported as measured, never asserted on.
 */
public final class TensorRtVerifier {
    /** The comparison and the latencies (microseconds, p50 and p95 over the samples). */
    public record Report(TfliteVerifier.Report comparison, double engineP50Us, double engineP95Us,
            double onnxRuntimeP50Us, double onnxRuntimeP95Us) {}

    private TensorRtVerifier() {}

    /**
     * @param onnx    the float ONNX model (the reference; for int8 and float16 engines, the model before quantisation
     *                or conversion)
     * @param shape   one sample's shape, batch 1, as the ONNX model takes it
     * @param labels  may be null
     */
    public static Report compare(Path onnx, TensorRtBackend.Engine engine, List<float[]> samples, int[] shape,
            int[] labels) throws OrtException, IOException {
        long[] dims = Arrays.stream(shape).asLongStream().toArray();
        long[] engineNanos = new long[samples.size()];
        int[] next = {0};
        TfliteVerifier.Report comparison = TfliteVerifier.compare(onnx, (x, s) -> {
            long t0 = System.nanoTime();
            float[] out = engine.run(x, dims);
            engineNanos[next[0]++] = System.nanoTime() - t0;
            return out;
        }, "TensorRT engine", samples, shape, labels);
        long[] ortNanos = onnxRuntimeLatency(onnx, samples, dims);
        return new Report(comparison, percentileUs(engineNanos, 50), percentileUs(engineNanos, 95),
                percentileUs(ortNanos, 50), percentileUs(ortNanos, 95));
    }

    private static long[] onnxRuntimeLatency(Path onnx, List<float[]> samples, long[] dims)
            throws OrtException, IOException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] nanos = new long[samples.size()];
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession session = OrtSessions.open(env, onnx, opts)) {
                String input = session.getInputNames().iterator().next();
                for (int i = 0; i < samples.size(); i++) {
                    long t0 = System.nanoTime();
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(samples.get(i)), dims);
                            OrtSession.Result r = session.run(Map.of(input, t))) {
                        r.get(0).getValue();
                    }
                    nanos[i] = System.nanoTime() - t0;
                }
            }
        }
        return nanos;
    }

    static double percentileUs(long[] nanos, int p) {
        if (nanos.length == 0) {
            return Double.NaN;
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, index)] / 1000.0;
    }
}
