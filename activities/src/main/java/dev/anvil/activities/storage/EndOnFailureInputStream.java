package dev.anvil.activities.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Turns the first read failure of the wrapped stream into a clean end of stream and keeps the failure
 * for the caller to rethrow afterwards. The MinIO client (9.0.4) does not abort a streaming upload when
 * its source throws: the request stalls until the read timeout. Ending the stream instead lets the
 * upload finish, truncated, under its temporary key, which {@link ObjectStore#put} then deletes.
 */
final class EndOnFailureInputStream extends FilterInputStream {
    private IOException failure;

    EndOnFailureInputStream(InputStream in) {
        super(in);
    }

    @Override
    public int read() {
        if (failure != null) {
            return -1;
        }
        try {
            return super.read();
        } catch (IOException | RuntimeException e) {
            return fail(e);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (failure != null) {
            return -1;
        }
        try {
            return super.read(b, off, len);
        } catch (IOException | RuntimeException e) {
            return fail(e);
        }
    }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("skip is not supported on an upload source");
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** The failure that ended the stream, or null when it ended because the source did. */
    IOException failure() {
        return failure;
    }

    private int fail(Exception e) {
        failure = e instanceof IOException ? (IOException) e : new IOException(e.toString(), e);
        return -1;
    }
}
