package dev.anvil.activities.external;

/** A callback the API must refuse: {@code status} is the HTTP status it answers with (404, 409, 422). */
public final class ExternalTaskException extends RuntimeException {
    private final int status;

    public ExternalTaskException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
