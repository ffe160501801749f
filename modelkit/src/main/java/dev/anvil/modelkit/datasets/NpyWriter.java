package dev.anvil.modelkit.datasets;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes arrays as NumPy {@code .npy} version 1.0, data aligned to 64 bytes as NumPy does. */
public final class NpyWriter {
    private NpyWriter() {}

    /** Writes header and data; the caller keeps the stream open. */
    public static void write(OutputStream out, NpyArray array) throws IOException {
        array.header().write(out);
        out.write(array.data());
    }

    public static void write(Path file, NpyArray array) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            write(out, array);
        }
    }
}
