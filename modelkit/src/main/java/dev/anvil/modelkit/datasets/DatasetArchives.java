package dev.anvil.modelkit.datasets;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;

/**
 * Checks and reads uploaded archives within {@link ZipLimits}: a dataset zip of {@code .npy} files checked
 * entry by entry against the format {@link Dataset} defines, and a zip holding the two MNIST IDX files.
 */
public final class DatasetArchives {
    /** A manifest only declares batch axes and state: anything larger is not one. */
    static final int MANIFEST_MAX_BYTES = 64 * 1024;

    private DatasetArchives() {}

    /**
     * Checks that {@code zipFile} is a dataset in Anvil's format, reading every byte: names are safe, every
     * entry is a top-level {@code .npy} file whose data is exactly as long as its header says, and the arrays
     * agree on the number of samples. Nothing is kept in memory but the headers.
     *
     * @return the headers of the inputs (in archive order) and of the labels
     */
    public static Headers checkDataset(Path zipFile, ZipLimits limits) throws IOException {
        Map<String, NpyHeader> inputs = new LinkedHashMap<>();
        NpyHeader labels = null;
        DatasetManifest manifest = DatasetManifest.NONE;
        try (SafeZip zip = SafeZip.open(zipFile, "the dataset zip", limits)) {
            if (!zip.folders().isEmpty()) {
                throw new DatasetFormatException("unexpected folder '" + zip.folders().get(0) + "' in the dataset zip;"
                        + " a dataset holds only <input_name>.npy files, an optional labels.npy and an optional "
                        + DatasetManifest.ENTRY + " at the top level");
            }
            for (ZipEntry entry : zip.files()) {
                String name = entry.getName();
                if (name.equals(DatasetManifest.ENTRY)) {
                    try (InputStream in = zip.open(entry)) {
                        byte[] json = in.readNBytes(MANIFEST_MAX_BYTES + 1);
                        if (json.length > MANIFEST_MAX_BYTES) {
                            throw new DatasetFormatException(DatasetManifest.ENTRY + " is larger than "
                                    + MANIFEST_MAX_BYTES + " bytes; it only declares batch axes and state");
                        }
                        manifest = DatasetManifest.parse(json);
                    }
                    continue;
                }
                if (name.contains("/") || !name.endsWith(Dataset.NPY_SUFFIX)) {
                    throw new DatasetFormatException("unexpected entry '" + name + "' in the dataset zip; a dataset"
                            + " holds only <input_name>.npy files, an optional labels.npy and an optional " + DatasetManifest.ENTRY
                            + " at the top level");
                }
                String stem = name.substring(0, name.length() - Dataset.NPY_SUFFIX.length());
                NpyHeader header;
                try (InputStream in = new BufferedInputStream(zip.open(entry))) {
                    try {
                        header = NpyHeader.read(in);
                    } catch (DatasetFormatException e) {
                        throw new DatasetFormatException(name + ": " + e.getMessage());
                    }
                    long data = in.transferTo(OutputStream.nullOutputStream());
                    if (data != header.dataBytes()) {
                        throw new DatasetFormatException(name + ": its header declares " + header + ", which is "
                                + header.dataBytes() + " bytes of data, but the entry holds " + data
                                + "; write the array again (numpy.save) so the data matches its header");
                    }
                } catch (ZipException e) {
                    throw new DatasetFormatException("entry '" + name + "' of the dataset zip is corrupt: "
                            + e.getMessage());
                }
                if (stem.equals(Dataset.LABELS)) {
                    labels = header;
                } else {
                    if (inputs.containsKey(stem)) {
                        throw new DatasetFormatException("the dataset zip holds '" + name + "' twice");
                    }
                    inputs.put(stem, header);
                }
            }
        }
        Dataset.checkConsistent(inputs, Optional.ofNullable(labels), manifest);
        return new Headers(inputs, Optional.ofNullable(labels), manifest);
    }

    /** The array headers of a checked dataset, and how its inputs are fed ({@link DatasetManifest#NONE} without one). */
    public record Headers(Map<String, NpyHeader> inputs, Optional<NpyHeader> labels, DatasetManifest manifest) {
        /** The first axis of any batched input (constant inputs have no sample axis). */
        public long sampleCount() {
            return inputs.entrySet().stream().filter(e -> manifest.isBatched(e.getKey())).findFirst()
                    .orElseThrow().getValue().shape()[0];
        }
    }

    /**
     * Reads MNIST from a zip holding its images IDX file ({@code idx3-ubyte}) and labels IDX file
     * ({@code idx1-ubyte}), each gzipped or not and named as you like: they are told apart by their IDX magic.
     */
    public static Dataset mnist(Path zipFile, ZipLimits limits, MnistImporter importer, Path workDir)
            throws IOException {
        Path images = null;
        Path labels = null;
        try (SafeZip zip = SafeZip.open(zipFile, "the MNIST zip", limits)) {
            if (zip.files().size() != 2) {
                throw new DatasetFormatException("the MNIST zip holds " + zip.files().size() + " files; it must hold"
                        + " exactly two, the images (idx3-ubyte) and the labels (idx1-ubyte), gzipped or not");
            }
            for (ZipEntry entry : zip.files()) {
                byte[] bytes = zip.readAll(entry);
                boolean gzip = bytes.length > 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b;
                int magic = magic(entry.getName(), bytes, gzip);
                Path file = workDir.resolve(magic == IdxReader.IMAGES_MAGIC ? "images.idx" : "labels.idx");
                if (magic == IdxReader.IMAGES_MAGIC && images == null) {
                    images = file;
                } else if (magic == IdxReader.LABELS_MAGIC && labels == null) {
                    labels = file;
                } else {
                    throw new DatasetFormatException("entry '" + entry.getName() + "' of the MNIST zip has IDX magic "
                            + String.format("0x%08x", magic) + "; expected one images file (0x00000803) and one"
                            + " labels file (0x00000801)");
                }
                try (InputStream in = new java.io.ByteArrayInputStream(bytes)) {
                    inflateBounded("entry '" + entry.getName() + "' of the MNIST zip", in, gzip, file,
                            limits.maxTotalBytes());
                }
            }
            return importer.read(images, labels);
        }
    }

    /**
     * Copies {@code file} to {@code out}, gunzipping it when it starts with gzip's magic bytes, and refuses
     * (naming {@code what}) once more than {@code maxBytes} come out: a small gzip can inflate without bound.
     *
     * @return whether the file was gzipped
     */
    public static boolean gunzipBounded(String what, Path file, Path out, long maxBytes) throws IOException {
        boolean gzip;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            in.mark(2);
            gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            inflateBounded(what, in, gzip, out, maxBytes);
        }
        return gzip;
    }

    private static void inflateBounded(String what, InputStream raw, boolean gzip, Path out, long maxBytes)
            throws IOException {
        try (InputStream in = gzip ? new GZIPInputStream(raw, 65536) : raw;
                OutputStream to = Files.newOutputStream(out)) {
            byte[] buffer = new byte[65536];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > maxBytes) {
                    throw new DatasetFormatException(what + " inflates past " + maxBytes + " bytes, the most an"
                            + " upload may hold uncompressed (a gzip bomb?); send a smaller file");
                }
                to.write(buffer, 0, n);
            }
        } catch (ZipException e) {
            throw new DatasetFormatException(what + " is not valid gzip: " + e.getMessage());
        }
    }

    private static int magic(String name, byte[] bytes, boolean gzip) throws IOException {
        try (InputStream in = gzip ? new GZIPInputStream(new java.io.ByteArrayInputStream(bytes))
                : new java.io.ByteArrayInputStream(bytes)) {
            byte[] head = in.readNBytes(4);
            if (head.length < 4) {
                throw new DatasetFormatException("entry '" + name + "' of the MNIST zip is too short to be an IDX file");
            }
            return ((head[0] & 0xff) << 24) | ((head[1] & 0xff) << 16) | ((head[2] & 0xff) << 8) | (head[3] & 0xff);
        } catch (ZipException e) {
            throw new DatasetFormatException("entry '" + name + "' of the MNIST zip is not valid gzip: " + e.getMessage());
        }
    }
}
