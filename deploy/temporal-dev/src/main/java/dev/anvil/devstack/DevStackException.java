package dev.anvil.devstack;

/** A local-stack component could not start or stop; the message says which and what to do. */
public class DevStackException extends RuntimeException {
    public DevStackException(String message) {
        super(message);
    }

    public DevStackException(String message, Throwable cause) {
        super(message, cause);
    }
}
