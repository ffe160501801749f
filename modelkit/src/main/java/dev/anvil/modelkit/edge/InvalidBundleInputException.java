package dev.anvil.modelkit.edge;

/** A bundle that cannot be made from what was given: the model's format, the labels, missing provenance. */
public final class InvalidBundleInputException extends IllegalArgumentException {
    public InvalidBundleInputException(String message) {
        super(message);
    }
}
