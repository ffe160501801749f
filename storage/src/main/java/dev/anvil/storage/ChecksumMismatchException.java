package dev.anvil.storage;

/**
 * The bytes handed to {@link ObjectStore#put} do not hash to the sha256 the caller expected; nothing
 * was stored. Bad input, not retryable: the same bytes will hash the same way next time.
 */
public class ChecksumMismatchException extends RuntimeException {
    private final String expected;
    private final String actual;

    public ChecksumMismatchException(String expected, String actual, long size) {
        super("artifact checksum mismatch: expected sha256 " + expected + " but the " + size
                + " bytes received hash to " + actual + "; nothing was stored. Check that the right file was sent"
                + " and that it was not truncated or changed on the way.");
        this.expected = expected;
        this.actual = actual;
    }

    public String expected() {
        return expected;
    }

    public String actual() {
        return actual;
    }
}
