package dev.anvil.storage;

/**
 * The object store failed to do what was asked: the message names the operation, bucket and key.
 * {@link #retryable()} is false where trying again cannot help (bad credentials, missing bucket),
 * true for transport and server faults.
 */
public class ObjectStoreException extends RuntimeException {
    private final boolean retryable;

    public ObjectStoreException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
