package dev.anvil.modelkit.datasets;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads unsigned-byte IDX files, the format of the MNIST distribution: a big-endian magic
 * {@code 0x000008NN} (type 0x08 = ubyte, NN = number of dimensions), NN big-endian int dimensions, then the
 * bytes. Files ending in {@code .gz} are gunzipped on the fly.
 */
public final class IdxReader {
    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {}

    /** Reads a ubyte IDX file whose magic must be {@code expectedMagic}, as a UINT8 array of its dimensions. */
    public static NpyArray read(Path file, int expectedMagic) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = open(file, new BufferedInputStream(raw))) {
            return read(in, expectedMagic, file.getFileName().toString());
        }
    }

    private static InputStream open(Path file, InputStream in) throws IOException {
        return file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(in) : in;
    }

    static NpyArray read(InputStream stream, int expectedMagic, String name) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int magic;
        long[] shape;
        try {
            magic = in.readInt();
            if (magic != expectedMagic) {
                throw new DatasetFormatException(name + " has IDX magic " + hex(magic) + ", expected "
                        + hex(expectedMagic) + " (unsigned bytes, " + (expectedMagic & 0xff)
                        + " dimensions); is it the right MNIST file?");
            }
            shape = new long[magic & 0xff];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = Integer.toUnsignedLong(in.readInt());
            }
        } catch (EOFException e) {
            throw new DatasetFormatException(name + " ends inside its IDX header; the file is truncated");
        }
        long expected = NpyHeader.elementCount(shape);
        if (expected > Integer.MAX_VALUE - 8) {
            throw new DatasetFormatException(name + " declares dimensions " + Arrays.toString(shape)
                    + ", too large for an IDX file");
        }
        byte[] data = in.readNBytes((int) expected);
        if (data.length != expected) {
            throw new DatasetFormatException(name + " is truncated: dimensions " + Arrays.toString(shape)
                    + " need " + expected + " bytes of data, found " + data.length);
        }
        return new NpyArray(NpyDtype.UINT8, shape, data);
    }

    private static String hex(int value) {
        return String.format("0x%08x", value);
    }
}
