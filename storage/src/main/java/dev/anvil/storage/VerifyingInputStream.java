package dev.anvil.storage;

import java.io.IOException;
import java.io.InputStream;

/**
 * A download stream that checks, when the reader reaches the end, that the bytes hash to the
 * artifact's sha256 and number its size. A mismatch throws {@link ArtifactCorruptedException} from
 * that read and from every read after it, so a reader that swallows the first one cannot see a clean end.
 * Bytes past the expected size fail at once. A reader that closes before the end gets no verdict.
 */
final class VerifyingInputStream extends HashingInputStream {
    private final String artifact;
    private final String expectedSha256;
    private final long expectedSize;
    private ArtifactCorruptedException failure;
    private boolean verified;

    VerifyingInputStream(InputStream in, String artifact, String expectedSha256, long expectedSize) {
        super(in);
        this.artifact = artifact;
        this.expectedSha256 = expectedSha256;
        this.expectedSize = expectedSize;
    }

    @Override
    public int read() throws IOException {
        throwIfFailed();
        int b = super.read();
        checkNotTooLong();
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        throwIfFailed();
        int n = super.read(b, off, len);
        checkNotTooLong();
        return n;
    }

    @Override
    protected void atEnd() throws IOException {
        if (verified) {
            return;
        }
        String actual = sha256Hex();
        if (count() != expectedSize || !actual.equals(expectedSha256)) {
            fail(actual);
        }
        verified = true;
    }

    private void checkNotTooLong() throws ArtifactCorruptedException {
        if (failure == null && count() > expectedSize) {
            fail("(not computed: more bytes than expected)");
        }
    }

    private void fail(String actualSha256) throws ArtifactCorruptedException {
        failure = new ArtifactCorruptedException(artifact, expectedSha256, expectedSize, actualSha256, count());
        throw failure;
    }

    private void throwIfFailed() throws ArtifactCorruptedException {
        if (failure != null) {
            throw failure;
        }
    }
}
