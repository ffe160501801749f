package dev.anvil.serving;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.anvil.modelkit.onnx.ValueTypes;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A warm model for one artifact: an ONNX Runtime session or a TFLite interpreter ({@link ModelEngine}). Requests
 * hold it while they run; once the gateway
 * retires it (no endpoint serves it any more) it closes after the last request lets go. At most
 * maxConcurrent requests decode and run on it at once: each pins its input tensors and the engine's
 * working memory, so without a bound a burst of large requests holds as much memory as it has requests.
 */
public final class LoadedModel {
    private final String sha256;
    private final ModelEngine engine;
    private final Map<String, TensorInfo> inputs;
    private final Map<String, Output> outputs;
    // users + 1 while not retired; the session closes when it reaches 0
    private final AtomicInteger holds = new AtomicInteger(1);
    private final Semaphore slots;
    private final int maxConcurrent;

    LoadedModel(String sha256, OrtSession session, int maxConcurrent) throws OrtException {
        this(sha256, ortEngine(session), maxConcurrent);
    }

    LoadedModel(String sha256, ModelEngine engine, int maxConcurrent) {
        if (maxConcurrent < 1) {
            engine.close();
            throw new IllegalArgumentException("maxConcurrent is " + maxConcurrent + "; a model needs at least 1");
        }
        this.sha256 = sha256;
        this.maxConcurrent = maxConcurrent;
        // fair: a request that has waited longest runs next, so no caller starves behind a burst
        this.slots = new Semaphore(maxConcurrent, true);
        this.engine = engine;
        this.inputs = engine.inputs();
        this.outputs = engine.outputs();
    }

    private static ModelEngine ortEngine(OrtSession session) throws OrtException {
        try {
            return new OrtEngine(session);
        } catch (OrtException e) {
            try {
                session.close();
            } catch (OrtException ignored) {
                // closing frees native memory; the load failed anyway
            }
            if (e.getCode() == OrtException.OrtErrorCode.ORT_NOT_IMPLEMENTED) {
                throw new OrtException(e.getCode(), "ONNX Runtime's Java API cannot describe one of the model's"
                        + " inputs or outputs (an optional or opaque value; inspect names their types), so the"
                        + " gateway cannot serve it");
            }
            throw e;
        }
    }

    /**
     * One of the model's outputs: a plain tensor (tensor is set), or a value the Open Inference Protocol has no
     * tensor datatype for, such as the sequence of maps a ZipMap classifier returns (tensor is null), which the
     * gateway answers as JSON. kind is its ONNX type ({@link ValueTypes}), e.g. {@code seq(map(int64,tensor(float)))}.
     */
    public record Output(String name, TensorInfo tensor, ValueInfo info, String kind) {
        public boolean isTensor() {
            return tensor != null;
        }
    }

    public String sha256() {
        return sha256;
    }

    /** The model's tensor inputs in the graph's order (the order metadata lists and error messages name them). */
    public Map<String, TensorInfo> inputs() {
        return inputs;
    }

    /** Every output of the model, tensor or not, in the graph's order. */
    public Map<String, Output> outputs() {
        return outputs;
    }

    /** The Open Inference Protocol platform: onnxruntime_onnx or tensorflow_lite. */
    public String platform() {
        return engine.platform();
    }

    ModelEngine engine() {
        return engine;
    }

    /** The ONNX Runtime session of an ONNX model. */
    OrtSession session() {
        if (engine instanceof OrtEngine ort) {
            return ort.session();
        }
        throw new IllegalStateException("artifact " + sha256 + " is a " + engine.platform() + " model, not ONNX");
    }

    /** Takes a hold for one request; false if the model was retired and closed meanwhile. */
    boolean hold() {
        while (true) {
            int n = holds.get();
            if (n == 0) {
                return false;
            }
            if (holds.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** The most requests that run on this model at once. */
    public int maxConcurrent() {
        return maxConcurrent;
    }

    /** Takes one of the model's request slots, waiting at most wait; false when none freed up in time. */
    boolean enter(Duration wait) {
        try {
            return slots.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Gives back the slot {@link #enter} took. */
    void leave() {
        slots.release();
    }

    void release() {
        if (holds.decrementAndGet() == 0) {
            close();
        }
    }

    /** No endpoint serves this model any more: close once in-flight requests finish. */
    void retire() {
        release();
    }

    private void close() {
        engine.close();
    }
}
