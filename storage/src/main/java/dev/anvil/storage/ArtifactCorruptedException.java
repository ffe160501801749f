package dev.anvil.storage;

import java.io.IOException;

/**
 * The bytes read back for an artifact do not match its reference (sha256 or size): the stored object
 * was changed or damaged after it was published. Thrown by the stream {@link ObjectStore#open} returns,
 * when the reader reaches the end.
 */
public class ArtifactCorruptedException extends IOException {
    private final String expectedSha256;
    private final String actualSha256;

    public ArtifactCorruptedException(String artifact, String expectedSha256, long expectedSize,
                                      String actualSha256, long actualSize) {
        super("artifact " + artifact + " is corrupted: expected sha256 " + expectedSha256 + " (" + expectedSize
                + " bytes) but read sha256 " + actualSha256 + " (" + actualSize + " bytes). The stored object was"
                + " changed after it was published; restore it from its producer or re-run the task that made it.");
        this.expectedSha256 = expectedSha256;
        this.actualSha256 = actualSha256;
    }

    public String expectedSha256() {
        return expectedSha256;
    }

    public String actualSha256() {
        return actualSha256;
    }
}
