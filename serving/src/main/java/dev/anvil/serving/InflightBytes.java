package dev.anvil.serving;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process's budget for inference request bodies held in memory at once. A request reserves its
 * size before its body is read and gives it back once its answer is built; one that would take the
 * total past the budget is refused at once (503 with a time to retry), never queued, so a burst of
 * large requests cannot pin more memory than the budget however many connections it opens.
 */
public final class InflightBytes {
    private final long budget;
    private final Duration retryAfter;
    private final AtomicLong used = new AtomicLong();

    /** @param retryAfter what a refused caller is told to wait before sending the request again */
    public InflightBytes(long budget, Duration retryAfter) {
        if (budget < 1) {
            throw new IllegalArgumentException("anvil.gateway.max-inflight-bytes is " + budget + "; it must be positive");
        }
        this.budget = budget;
        this.retryAfter = retryAfter;
    }

    /**
     * One request's share of the budget and the memory its body is read into. Closing it frees that
     * memory at once (a direct buffer: no heap to grow and stay grown after a burst) and gives the bytes
     * back, once.
     */
    public final class Reservation implements AutoCloseable {
        private long bytes;
        private ByteBuffer body;

        private Reservation(long bytes) {
            this.bytes = bytes;
        }

        /** A buffer for the body, of at most the reserved size; it lives until the reservation closes. */
        public synchronized ByteBuffer body(int capacity) {
            if (body != null || capacity > bytes) {
                throw new IllegalStateException("a reservation of " + bytes + " bytes holds one body of at most that");
            }
            body = DirectBuffers.allocate(capacity);
            return body;
        }

        @Override
        public synchronized void close() {
            DirectBuffers.free(body);
            body = null;
            used.addAndGet(-bytes);
            bytes = 0;
        }
    }

    /** Reserves bytes, or refuses with 503 when the requests already in flight leave too little of the budget. */
    public Reservation reserve(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot reserve " + bytes + " bytes");
        }
        while (true) {
            long now = used.get();
            if (now + bytes > budget) {
                throw GatewayException.busy(503, "the gateway is holding " + now + " bytes of inference requests and"
                        + " this one needs " + bytes + " more, past its budget of " + budget
                        + " (ANVIL_GATEWAY_MAX_INFLIGHT_BYTES); send it again in " + retryAfter.toSeconds() + " s",
                        retryAfter);
            }
            if (used.compareAndSet(now, now + bytes)) {
                return new Reservation(bytes);
            }
        }
    }

    /** Bytes reserved by requests in flight now. */
    public long used() {
        return used.get();
    }

    public long budget() {
        return budget;
    }
}
