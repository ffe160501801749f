package dev.anvil.modelkit.datasets;

/**
 * A dataset, {@code .npy} or IDX file that cannot be read as it stands. Retrying will not help, so
 * activities map this to a non-retryable failure; I/O trouble stays an {@link java.io.IOException}.
 */
public class DatasetFormatException extends RuntimeException {
    public DatasetFormatException(String message) {
        super(message);
    }
}
