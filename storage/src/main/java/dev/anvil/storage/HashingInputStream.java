package dev.anvil.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Passes bytes through while computing their SHA-256 and counting them. Remembers the first read
 * failure of the wrapped stream, so that after a library consumed it (and wrapped the error) the
 * caller can still tell "the source failed" from "the store failed".
 */
class HashingInputStream extends FilterInputStream {
    private final MessageDigest digest;
    private long count;
    private IOException sourceFailure;

    HashingInputStream(InputStream in) {
        super(in);
        this.digest = newSha256();
    }

    @Override
    public int read() throws IOException {
        int b;
        try {
            b = super.read();
        } catch (IOException e) {
            throw remember(e);
        }
        if (b >= 0) {
            digest.update((byte) b);
            count++;
        } else {
            atEnd();
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = super.read(b, off, len);
        } catch (IOException e) {
            throw remember(e);
        }
        if (n > 0) {
            digest.update(b, off, n);
            count += n;
        } else if (n < 0) {
            atEnd();
        }
        return n;
    }

    /** Skipped bytes must still be hashed, so skip reads them. */
    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[8192];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // not supported: a reset would hash the same bytes twice
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset is not supported on a hashing stream");
    }

    /** Called once per read that hits the end of the wrapped stream. */
    protected void atEnd() throws IOException {}

    long count() {
        return count;
    }

    /** The hex SHA-256 of everything read so far; call once, after the end. */
    String sha256Hex() {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The first exception the wrapped stream threw, or null. */
    IOException sourceFailure() {
        return sourceFailure;
    }

    private IOException remember(IOException e) {
        if (sourceFailure == null) {
            sourceFailure = e;
        }
        return e;
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must provide", e);
        }
    }
}
