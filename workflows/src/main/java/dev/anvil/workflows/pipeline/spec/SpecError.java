package dev.anvil.workflows.pipeline.spec;

import java.util.Objects;

/**
 * One problem with a pipeline spec. {@code path} names where it is, in the spec's own terms
 * ({@code tasks.quantize.upstream[0]}, {@code schedule}); the empty path means the whole document.
 * {@code message} says what is wrong and how to fix it.
 */
public record SpecError(String path, String message) {
    public SpecError {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return path.isEmpty() ? message : path + ": " + message;
    }
}
