package dev.anvil.activities.operators;

/** The task's input is wrong (a missing artifact, a corrupt model, a bad value); retrying cannot help. */
public class InvalidTaskInputException extends RuntimeException {
    public InvalidTaskInputException(String message) {
        super(message);
    }

    public InvalidTaskInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
