package dev.anvil.storage;

import java.io.InputStream;

/**
 * {@code size} pseudo-random bytes from a seed, produced as they are read: artifacts of any size
 * without holding them in memory. The same seed and size always give the same bytes (xorshift64*),
 * so a test can hash an independent second stream to know what the store should compute.
 */
public final class GeneratedInputStream extends InputStream {
    private final long size;
    private long state;
    private long position;
    private long word;

    public GeneratedInputStream(long size, long seed) {
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0, got " + size);
        }
        this.size = size;
        this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    @Override
    public int read() {
        if (position >= size) {
            return -1;
        }
        return nextByte() & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (position >= size) {
            return -1;
        }
        int n = (int) Math.min(len, size - position);
        for (int i = 0; i < n; i++) {
            b[off + i] = nextByte();
        }
        return n;
    }

    @Override
    public int available() {
        return (int) Math.min(Integer.MAX_VALUE, size - position);
    }

    private byte nextByte() {
        int shift = (int) (position & 7);
        if (shift == 0) {
            state ^= state >>> 12;
            state ^= state << 25;
            state ^= state >>> 27;
            word = state * 0x2545F4914F6CDD1DL;
        }
        position++;
        return (byte) (word >>> (shift * 8));
    }
}
