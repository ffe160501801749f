package dev.anvil.serving;

/**
 * A request the gateway refuses or fails, with the HTTP status it deserves: 4xx for what the caller
 * can fix (named in the message, with the offending field), 5xx for the model or the server.
 */
public class GatewayException extends RuntimeException {
    private final int status;
    private final String field;
    private final java.time.Duration retryAfter;

    public GatewayException(int status, String field, String message) {
        super(message);
        this.status = status;
        this.field = field;
        this.retryAfter = null;
    }

    private GatewayException(int status, String message, java.time.Duration retryAfter) {
        super(message);
        this.status = status;
        this.field = null;
        this.retryAfter = retryAfter;
    }

    public GatewayException(int status, String field, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.field = field;
        this.retryAfter = null;
    }

    /**
     * The gateway is too busy for this request right now (429 for a model at its concurrency limit, 503 for
     * the process at its in-flight memory budget): the same request may succeed after retryAfter.
     */
    public static GatewayException busy(int status, String message, java.time.Duration retryAfter) {
        return new GatewayException(status, message, retryAfter);
    }

    public static GatewayException badRequest(String field, String message) {
        return new GatewayException(400, field, message);
    }

    public static GatewayException notFound(String field, String message) {
        return new GatewayException(404, field, message);
    }

    public int status() {
        return status;
    }

    /** The request field at fault (e.g. {@code inputs[0].shape}), or null when it is not one field. */
    public String field() {
        return field;
    }

    /** How long the caller should wait before sending the request again, or null when it should not. */
    public java.time.Duration retryAfter() {
        return retryAfter;
    }
}
