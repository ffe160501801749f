package dev.anvil.modelkit.datasets;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Opens a dataset zip (see {@link Dataset}) and checks it against the format using only the array
 * headers; data is read later, batch by batch, so a dataset larger than memory can still be used.
 */
public final class DatasetReader implements AutoCloseable {
    private final ZipFile zip;
    private final Map<String, NpyHeader> inputs;
    private final Optional<NpyHeader> labels;
    private final DatasetManifest manifest;

    private DatasetReader(ZipFile zip, Map<String, NpyHeader> inputs, Optional<NpyHeader> labels,
            DatasetManifest manifest) {
        this.zip = zip;
        this.inputs = Collections.unmodifiableMap(inputs);
        this.labels = labels;
        this.manifest = manifest;
    }

    public static DatasetReader open(Path file) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new DatasetFormatException("dataset " + file.getFileName() + " is not a zip archive (" + e.getMessage()
                    + "); write datasets with DatasetWriter or zip the .npy files");
        }
        try {
            Map<String, NpyHeader> inputs = new LinkedHashMap<>();
            NpyHeader labels = null;
            DatasetManifest manifest = DatasetManifest.NONE;
            for (ZipEntry entry : Collections.list(zip.entries())) {
                String name = entry.getName();
                if (name.equals(DatasetManifest.ENTRY) && !entry.isDirectory()) {
                    try (InputStream in = zip.getInputStream(entry)) {
                        // a manifest is a few lines; more is not a manifest
                        byte[] json = in.readNBytes(1 << 20);
                        if (in.read() >= 0) {
                            throw new DatasetFormatException(DatasetManifest.ENTRY + " in dataset " + file.getFileName()
                                    + " is larger than 1 MiB; it should only declare batch axes and state");
                        }
                        manifest = DatasetManifest.parse(json);
                    }
                    continue;
                }
                if (entry.isDirectory() || !name.endsWith(Dataset.NPY_SUFFIX)) {
                    throw new DatasetFormatException("unexpected entry '" + name + "' in dataset " + file.getFileName()
                            + "; a dataset holds only <input_name>.npy files, an optional labels.npy and an optional "
                            + DatasetManifest.ENTRY + " at the top level");
                }
                String stem = name.substring(0, name.length() - Dataset.NPY_SUFFIX.length());
                NpyHeader header;
                try (InputStream in = zip.getInputStream(entry)) {
                    header = NpyHeader.read(in);
                } catch (DatasetFormatException e) {
                    throw new DatasetFormatException(name + ": " + e.getMessage());
                }
                if (stem.equals(Dataset.LABELS)) {
                    labels = header;
                } else {
                    inputs.put(stem, header);
                }
            }
            Dataset.checkConsistent(inputs, Optional.ofNullable(labels), manifest);
            return new DatasetReader(zip, inputs, Optional.ofNullable(labels), manifest);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    /** Input names in the order they appear in the archive. */
    public List<String> inputNames() {
        return new ArrayList<>(inputs.keySet());
    }

    public long sampleCount() {
        return inputs.entrySet().stream().filter(e -> manifest.isBatched(e.getKey())).findFirst().orElseThrow()
                .getValue().shape()[0];
    }

    /** How the inputs are fed: {@link DatasetManifest#NONE} for a dataset without {@code dataset.json}. */
    public DatasetManifest manifest() {
        return manifest;
    }

    /** Full shape of an input as stored: sample axis first for a batched input, the model's shape for a constant. */
    public long[] shape(String input) {
        return header(input).shape();
    }

    public NpyDtype dtype(String input) {
        return header(input).dtype();
    }

    public boolean hasLabels() {
        return labels.isPresent();
    }

    /** Labels are one integer per sample, small enough to read whole. */
    public Optional<NpyArray> labels() throws IOException {
        if (labels.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = entryStream(Dataset.LABELS)) {
            return Optional.of(NpyReader.read(in));
        }
    }

    /** Batches of at most {@code batchSize} samples of one batched input; close the iterator when done. */
    public NpyBatches batches(String input, int batchSize) throws IOException {
        header(input);
        if (!manifest.isBatched(input)) {
            throw new IllegalArgumentException("input '" + input + "' is constant (batch_axis null); read it with constant()");
        }
        return NpyReader.batches(entryStream(input), batchSize);
    }

    /** The whole array of an input stored once (batch_axis null), fed unchanged with every batch. */
    public NpyArray constant(String input) throws IOException {
        header(input);
        try (InputStream in = entryStream(input)) {
            return NpyReader.read(in);
        }
    }

    /** Reads the whole dataset into memory. */
    public Dataset readAll() throws IOException {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        for (String input : inputs.keySet()) {
            try (InputStream in = entryStream(input)) {
                arrays.put(input, NpyReader.read(in));
            }
        }
        return new Dataset(arrays, labels(), manifest);
    }

    private NpyHeader header(String input) {
        NpyHeader header = inputs.get(input);
        if (header == null) {
            throw new IllegalArgumentException("unknown input '" + input + "', expected one of " + inputs.keySet());
        }
        return header;
    }

    private InputStream entryStream(String stem) throws IOException {
        return new BufferedInputStream(zip.getInputStream(zip.getEntry(stem + Dataset.NPY_SUFFIX)));
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
