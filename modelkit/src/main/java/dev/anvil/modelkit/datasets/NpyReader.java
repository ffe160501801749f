package dev.anvil.modelkit.datasets;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads NumPy {@code .npy} files (versions 1.0 and 2.0, C order, little-endian), whole or in batches. */
public final class NpyReader {
    private NpyReader() {}

    /** Reads a whole array; the caller keeps the stream open. */
    public static NpyArray read(InputStream in) throws IOException {
        NpyHeader header = NpyHeader.read(in);
        long expected = header.dataBytes();
        if (expected > Integer.MAX_VALUE - 8) {
            throw new DatasetFormatException("npy array " + header + " holds " + expected
                    + " bytes, too many to load at once; read it with NpyReader.batches");
        }
        byte[] data = readData(in, (int) expected, header.toString());
        return new NpyArray(header.dtype(), header.shape(), data);
    }

    public static NpyArray read(Path file) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return read(in);
        }
    }

    /**
     * Reads the header now and then the data batch by batch along the first axis, so memory holds one batch
     * at a time. Each batch has at most {@code batchSize} samples. Closing the iterator closes {@code in}.
     */
    public static NpyBatches batches(InputStream in, int batchSize) throws IOException {
        return new NpyBatches(in, NpyHeader.read(in), batchSize);
    }

    static byte[] readData(InputStream in, int expected, String what) throws IOException {
        byte[] data = in.readNBytes(expected);
        if (data.length != expected) {
            throw new DatasetFormatException("npy data of " + what + " is truncated: expected " + expected
                    + " bytes, found " + data.length);
        }
        return data;
    }
}
