package dev.anvil.modelkit.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Consecutive slices of an {@code .npy} array along its first axis, read lazily from a stream. Truncated
 * data is reported by the batch that runs into it, as a {@link DatasetFormatException}.
 */
public final class NpyBatches implements Iterator<NpyArray>, AutoCloseable {
    private final InputStream in;
    private final NpyHeader header;
    private final int batchSize;
    private final long sampleBytes;
    private long samplesRead;

    NpyBatches(InputStream in, NpyHeader header, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        long[] shape = header.shape();
        if (shape.length == 0) {
            throw new DatasetFormatException("a 0-d npy array has no sample axis to batch over");
        }
        this.in = in;
        this.header = header;
        this.batchSize = batchSize;
        this.sampleBytes = shape[0] == 0 ? 0 : header.dataBytes() / shape[0];
        if ((long) batchSize * sampleBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a batch of " + batchSize + " samples of " + sampleBytes
                    + " bytes is too large; use a smaller batch size");
        }
    }

    /** Dtype and full shape of the array being read. */
    public NpyHeader header() {
        return header;
    }

    public long sampleCount() {
        return header.shape()[0];
    }

    @Override
    public boolean hasNext() {
        return samplesRead < sampleCount();
    }

    @Override
    public NpyArray next() {
        if (!hasNext()) {
            throw new NoSuchElementException("all " + sampleCount() + " samples have been read");
        }
        int count = (int) Math.min(batchSize, sampleCount() - samplesRead);
        long[] shape = header.shape();
        shape[0] = count;
        String what = header + " (samples " + samplesRead + ".." + (samplesRead + count - 1) + ")";
        try {
            byte[] data = NpyReader.readData(in, (int) (count * sampleBytes), what);
            samplesRead += count;
            return new NpyArray(header.dtype(), shape, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
