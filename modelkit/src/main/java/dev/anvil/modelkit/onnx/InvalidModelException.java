package dev.anvil.modelkit.onnx;

/** The file is not a model ONNX Runtime can load; retrying will not help. The message says what is wrong. */
public class InvalidModelException extends RuntimeException {
    public InvalidModelException(String message) {
        super(message);
    }

    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
