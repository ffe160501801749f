package dev.anvil.serving;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.anvil.modelkit.onnx.ValueTypes;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A warm ONNX Runtime session for one artifact. Requests hold it while they run; once the gateway
 * retires it (no endpoint serves it any more) it closes after the last request lets go. At most
 * maxConcurrent requests decode and run on it at once: each pins its input tensors and ONNX Runtime's
 * working memory, so without a bound a burst of large requests holds as much memory as it has requests.
 */
public final class LoadedModel {
    private final String sha256;
    private final OrtSession session;
    private final Map<String, TensorInfo> inputs;
    private final Map<String, Output> outputs;
    // users + 1 while not retired; the session closes when it reaches 0
    private final AtomicInteger holds = new AtomicInteger(1);
    private final Semaphore slots;
    private final int maxConcurrent;

    LoadedModel(String sha256, OrtSession session, int maxConcurrent) throws OrtException {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent is " + maxConcurrent + "; a model needs at least 1");
        }
        this.sha256 = sha256;
        this.maxConcurrent = maxConcurrent;
        // fair: a request that has waited longest runs next, so no caller starves behind a burst
        this.slots = new Semaphore(maxConcurrent, true);
        this.session = session;
        try {
            this.inputs = tensors(session.getInputInfo());
            this.outputs = outputs(session.getOutputInfo());
        } catch (OrtException e) {
            close();
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

    OrtSession session() {
        return session;
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
        try {
            session.close();
        } catch (OrtException e) {
            // closing frees native memory; nothing a caller could do about a failure here
        }
    }

    /**
     * ONNX Runtime lists a session's inputs and outputs in the graph's order; Map.copyOf would lose it. Inputs
     * are tensors only: a request has no way to send another kind of value.
     */
    private static Map<String, TensorInfo> tensors(Map<String, NodeInfo> nodes) {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        nodes.forEach((name, node) -> {
            if (node.getInfo() instanceof TensorInfo t) {
                tensors.put(name, t);
            }
        });
        return Collections.unmodifiableMap(tensors);
    }

    private static Map<String, Output> outputs(Map<String, NodeInfo> nodes) {
        Map<String, Output> outputs = new LinkedHashMap<>();
        nodes.forEach((name, node) -> outputs.put(name, new Output(name,
                node.getInfo() instanceof TensorInfo t ? t : null, node.getInfo(), ValueTypes.describe(node.getInfo()))));
        return Collections.unmodifiableMap(outputs);
    }
}
