package dev.anvil.modelkit.datasets;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a {@link Dataset} in the zip format its javadoc defines; a {@code dataset.json} manifest only when the
 * dataset declares something, so plain datasets stay byte for byte what they were.
 */
public final class DatasetWriter {
    private DatasetWriter() {}

    public static void write(OutputStream out, Dataset dataset) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        if (!dataset.manifest().isDefault()) {
            zip.putNextEntry(new ZipEntry(DatasetManifest.ENTRY));
            zip.write(dataset.manifest().toJson());
            zip.closeEntry();
        }
        for (Map.Entry<String, NpyArray> input : dataset.inputs().entrySet()) {
            writeEntry(zip, input.getKey(), input.getValue());
        }
        if (dataset.labels().isPresent()) {
            writeEntry(zip, Dataset.LABELS, dataset.labels().get());
        }
        zip.finish();
    }

    /** Writes beside {@code file} first and moves into place, so a failed write never leaves half a dataset. */
    public static void write(Path file, Dataset dataset) throws IOException {
        Path absolute = file.toAbsolutePath();
        Path partial = Files.createTempFile(absolute.getParent(), absolute.getFileName().toString(), ".partial");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(partial))) {
                write(out, dataset);
            }
            Files.move(partial, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private static void writeEntry(ZipOutputStream zip, String name, NpyArray array) throws IOException {
        zip.putNextEntry(new ZipEntry(name + Dataset.NPY_SUFFIX));
        NpyWriter.write(zip, array);
        zip.closeEntry();
    }
}
