package dev.anvil.serving;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import dev.anvil.modelkit.drift.LogHistogram;
import dev.anvil.modelkit.drift.ReservoirSample;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the gateway keeps of each endpoint version's traffic for drift checks, in constant memory: a seeded
 * reservoir of input rows (Algorithm R, {@code capacity} rows), a {@link LogHistogram} per feature and the
 * predicted classes' counts. The sampled input is the model's first numeric tensor input; a row is one item
 * of its first (batch) dimension flattened, so {@code x: [N, 4]} gives features {@code x[0]}..{@code x[3]}.
 * The predicted class is the first output's: an integer label per row, or the arg-max of a score row.
 * Rows wider than {@value #MAX_FEATURES} features and requests of another width than the first are not
 * sampled. Lock-free; a failure here never fails a request.
 */
public final class DriftSampler {
    public static final int DEFAULT_CAPACITY = 512;
    public static final int MAX_FEATURES = 1024;
    public static final int MAX_CLASSES = 1024;

    private final boolean enabled;
    private final int capacity;
    private final long seed;
    private final ConcurrentHashMap<String, ConcurrentHashMap<Integer, VersionWindow>> byEndpoint =
            new ConcurrentHashMap<>();

    /** @param capacity rows kept per endpoint version; 0 turns sampling off */
    public DriftSampler(int capacity, long seed) {
        if (capacity < 0) {
            throw new IllegalArgumentException("drift sample capacity is " + capacity + "; 0 (off) or more");
        }
        this.enabled = capacity > 0;
        this.capacity = capacity;
        this.seed = seed;
    }

    /** A sampler that keeps nothing. */
    public static DriftSampler off() {
        return new DriftSampler(0, 0);
    }

    public boolean enabled() {
        return enabled;
    }

    /** One endpoint version's window as published: rows, per-feature bin counts, class counts (trailing zeros cut). */
    public record Window(String endpoint, int version, long seen, String inputName, List<String> features,
                         List<float[]> sample, List<List<Long>> histograms, List<Long> classCounts) {
    }

    /** Offers a request's inputs (decoded, before the run). */
    void offerInputs(String endpoint, int version, Map<String, OnnxTensor> inputs) {
        if (!enabled || inputs.isEmpty()) {
            return;
        }
        try {
            window(endpoint, version).offer(inputs);
        } catch (RuntimeException e) {
            // sampling is an observer: a tensor it cannot read is left out, the request goes on
        }
    }

    /** Offers a run's outputs: the first output's predicted class per row. */
    void offerOutputs(String endpoint, int version, Iterable<Map.Entry<String, OnnxValue>> result) {
        if (!enabled) {
            return;
        }
        java.util.Iterator<Map.Entry<String, OnnxValue>> outputs = result.iterator();
        if (!outputs.hasNext()) {
            return;
        }
        try {
            OnnxValue first = outputs.next().getValue();
            if (first instanceof OnnxTensor tensor) {
                window(endpoint, version).classes(tensor);
            }
        } catch (RuntimeException e) {
            // as above: never fail a request for its sample
        }
    }

    /** Every endpoint version's window now, by endpoint then version. */
    public List<Window> windows() {
        List<Window> all = new ArrayList<>();
        byEndpoint.forEach((endpoint, versions) -> versions.forEach((v, w) -> {
            Window snapshot = w.snapshot(endpoint, v);
            if (snapshot != null) {
                all.add(snapshot);
            }
        }));
        all.sort(Comparator.comparing(Window::endpoint).thenComparingInt(Window::version));
        return all;
    }

    private VersionWindow window(String endpoint, int version) {
        return byEndpoint.computeIfAbsent(endpoint, e -> new ConcurrentHashMap<>())
                .computeIfAbsent(version, v -> new VersionWindow(new ReservoirSample<>(capacity, seed ^ v)));
    }

    private static final class VersionWindow {
        final ReservoirSample<float[]> reservoir;
        final AtomicLongArray classes = new AtomicLongArray(MAX_CLASSES);
        // fixed by the first request that could be sampled; read without a lock, written once
        volatile String input;
        volatile int width = -1;
        volatile LogHistogram[] histograms;

        VersionWindow(ReservoirSample<float[]> reservoir) {
            this.reservoir = reservoir;
        }

        void offer(Map<String, OnnxTensor> inputs) {
            if (input == null) {
                choose(inputs);
            }
            OnnxTensor tensor = inputs.get(input);
            if (tensor == null || width <= 0) {
                return;
            }
            long[] shape = tensor.getInfo().getShape();
            if (shape.length == 0 || shape[0] <= 0 || rowWidth(shape) != width) {
                return;
            }
            int rows = (int) shape[0];
            float[] values = floats(tensor, rows * width);
            if (values == null) {
                return;
            }
            LogHistogram[] h = histograms;
            for (int r = 0; r < rows; r++) {
                int from = r * width;
                for (int f = 0; f < width; f++) {
                    h[f].add(values[from + f]);
                }
                // the row is copied only when the reservoir keeps it
                reservoir.offer(() -> java.util.Arrays.copyOfRange(values, from, from + width));
            }
        }

        private synchronized void choose(Map<String, OnnxTensor> inputs) {
            if (input != null) {
                return;
            }
            for (Map.Entry<String, OnnxTensor> e : inputs.entrySet()) {
                long[] shape = e.getValue().getInfo().getShape();
                if (numeric(e.getValue().getInfo().type) && shape.length >= 1) {
                    long w = rowWidth(shape);
                    LogHistogram[] h = new LogHistogram[(int) Math.max(0, Math.min(w, MAX_FEATURES))];
                    for (int i = 0; i < h.length; i++) {
                        h[i] = new LogHistogram();
                    }
                    histograms = h;
                    width = w > 0 && w <= MAX_FEATURES ? (int) w : 0;
                    input = e.getKey();
                    return;
                }
            }
            width = 0;
            input = "";
        }

        void classes(OnnxTensor tensor) {
            long[] shape = tensor.getInfo().getShape();
            OnnxJavaType type = tensor.getInfo().type;
            if ((type == OnnxJavaType.INT64 || type == OnnxJavaType.INT32)
                    && (shape.length == 1 || shape.length == 2 && shape[1] == 1)) {
                if (type == OnnxJavaType.INT64) {
                    LongBuffer b = tensor.getLongBuffer();
                    while (b.hasRemaining()) {
                        count(b.get());
                    }
                } else {
                    IntBuffer b = tensor.getIntBuffer();
                    while (b.hasRemaining()) {
                        count(b.get());
                    }
                }
            } else if (type == OnnxJavaType.FLOAT && shape.length == 2 && shape[1] > 1) {
                FloatBuffer b = tensor.getFloatBuffer();
                int k = (int) shape[1];
                for (int r = 0; r < shape[0]; r++) {
                    int best = 0;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int c = 0; c < k; c++) {
                        float v = b.get(r * k + c);
                        if (v > max) {
                            max = v;
                            best = c;
                        }
                    }
                    count(best);
                }
            }
        }

        private void count(long label) {
            if (label >= 0 && label < MAX_CLASSES) {
                classes.incrementAndGet((int) label);
            }
        }

        Window snapshot(String endpoint, int version) {
            String name = input;
            LogHistogram[] h = histograms;
            if (name == null || name.isEmpty() || width <= 0 || h == null) {
                return null;
            }
            List<String> features = new ArrayList<>(width);
            List<List<Long>> bins = new ArrayList<>(width);
            for (int f = 0; f < width; f++) {
                features.add(name + "[" + f + "]");
                bins.add(h[f].counts());
            }
            int last = MAX_CLASSES;
            while (last > 0 && classes.get(last - 1) == 0) {
                last--;
            }
            List<Long> classCounts = new ArrayList<>(last);
            for (int c = 0; c < last; c++) {
                classCounts.add(classes.get(c));
            }
            return new Window(endpoint, version, reservoir.seen(), name, features, reservoir.snapshot(), bins,
                    classCounts);
        }
    }

    private static boolean numeric(OnnxJavaType type) {
        return type == OnnxJavaType.FLOAT || type == OnnxJavaType.DOUBLE || type == OnnxJavaType.INT32
                || type == OnnxJavaType.INT64;
    }

    private static long rowWidth(long[] shape) {
        long w = 1;
        for (int i = 1; i < shape.length; i++) {
            if (shape[i] < 0) {
                return -1;
            }
            w *= shape[i];
        }
        return w;
    }

    private static float[] floats(OnnxTensor tensor, int count) {
        float[] out = new float[count];
        switch (tensor.getInfo().type) {
            case FLOAT -> {
                FloatBuffer b = tensor.getFloatBuffer();
                b.get(out, 0, Math.min(count, b.remaining()));
            }
            case DOUBLE -> {
                DoubleBuffer b = tensor.getDoubleBuffer();
                for (int i = 0; i < count && b.hasRemaining(); i++) {
                    out[i] = (float) b.get();
                }
            }
            case INT64 -> {
                LongBuffer b = tensor.getLongBuffer();
                for (int i = 0; i < count && b.hasRemaining(); i++) {
                    out[i] = b.get();
                }
            }
            case INT32 -> {
                IntBuffer b = tensor.getIntBuffer();
                for (int i = 0; i < count && b.hasRemaining(); i++) {
                    out[i] = b.get();
                }
            }
            default -> {
                return null;
            }
        }
        return out;
    }
}
