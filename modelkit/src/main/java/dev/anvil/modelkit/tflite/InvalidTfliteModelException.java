package dev.anvil.modelkit.tflite;

/** A .tflite file that no retry will load: no TFLite identifier, a corrupt flatbuffer, an unknown operator. */
public final class InvalidTfliteModelException extends IllegalArgumentException {
    public InvalidTfliteModelException(String message) {
        super(message);
    }
}
