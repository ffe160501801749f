package dev.anvil.modelkit.datasets;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * A dataset held in memory, and the definition of Anvil's dataset artifact format.
 *
 * <h2>Format ({@code application/vnd.anvil.dataset+zip})</h2>
 * A zip archive whose entries are NumPy {@code .npy} files (version 1.0 or 2.0, C order, little-endian,
 * dtype one of {@code |u1 |b1 <i4 <i8 <f2 <f4 <f8}):
 * <ul>
 *   <li>{@code <input_name>.npy} for each model input, named exactly as the model input
 *       (e.g. {@code input_image.npy}); the first axis is the sample axis, the rest is one sample's shape;</li>
 *   <li>optionally {@code labels.npy}: a 1-D integer array ({@code <i8}, {@code <i4} or {@code |u1}) with one
 *       label per sample;</li>
 *   <li>optionally {@code dataset.json}, a {@link DatasetManifest}: per-input batch axes, constant inputs
 *       (stored once, not sample-first, any rank) and state fed back from an output. Without it every input is
 *       batched on axis 0, as in every dataset written before it existed.</li>
 * </ul>
 * Every batched array has the same first-axis length, at least one input is batched and there is at least one
 * sample. No other entries and no folders are allowed. {@code labels} is therefore not usable as an input name.
 * {@link DatasetWriter} writes this format and {@link DatasetReader} reads it batch by batch.
 */
public record Dataset(Map<String, NpyArray> inputs, Optional<NpyArray> labels, DatasetManifest manifest) {
    public static final String LABELS = "labels";
    public static final String NPY_SUFFIX = ".npy";

    public Dataset {
        inputs = Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
        manifest = manifest == null ? DatasetManifest.NONE : manifest;
        Map<String, NpyHeader> headers = new LinkedHashMap<>();
        for (Map.Entry<String, NpyArray> input : inputs.entrySet()) {
            headers.put(input.getKey(), input.getValue().header());
        }
        checkConsistent(headers, labels.map(NpyArray::header), manifest);
    }

    /** A dataset without a manifest: every input batched on axis 0. */
    public Dataset(Map<String, NpyArray> inputs, Optional<NpyArray> labels) {
        this(inputs, labels, DatasetManifest.NONE);
    }

    /** The same arrays fed as {@code manifest} says. */
    public Dataset withManifest(DatasetManifest manifest) {
        return new Dataset(inputs, labels, manifest);
    }

    public static Dataset of(Map<String, NpyArray> inputs, NpyArray labels) {
        return new Dataset(inputs, Optional.of(labels));
    }

    public long sampleCount() {
        return inputs.entrySet().stream().filter(e -> manifest.isBatched(e.getKey())).findFirst().orElseThrow()
                .getValue().sampleCount();
    }

    /**
     * The same samples in an order drawn from {@code seed}; the same seed always gives the same order. A stateful
     * dataset's samples are steps in order and are not shuffled.
     */
    public Dataset shuffled(long seed) {
        if (manifest.isStateful()) {
            throw new IllegalStateException("a stateful dataset's samples are the steps of sequences, in order;"
                    + " shuffling would break them");
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < sampleCount(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        return take(order.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The first {@code firstCount} samples and the rest, e.g. calibration and evaluation sets. */
    public List<Dataset> split(int firstCount) {
        if (firstCount < 1 || firstCount >= sampleCount()) {
            throw new IllegalArgumentException("split size must be between 1 and " + (sampleCount() - 1)
                    + " so both parts have samples, got " + firstCount);
        }
        if (manifest.sequenceLength().isPresent() && firstCount % manifest.sequenceLength().getAsInt() != 0) {
            throw new IllegalArgumentException("split size " + firstCount + " would cut a sequence of "
                    + manifest.sequenceLength().getAsInt() + " steps; use a multiple of it");
        }
        int[] first = new int[firstCount];
        int[] rest = new int[(int) sampleCount() - firstCount];
        for (int i = 0; i < first.length; i++) {
            first[i] = i;
        }
        for (int i = 0; i < rest.length; i++) {
            rest[i] = firstCount + i;
        }
        return List.of(take(first), take(rest));
    }

    private Dataset take(int[] indices) {
        Map<String, NpyArray> taken = new LinkedHashMap<>();
        inputs.forEach((name, array) -> taken.put(name, manifest.isBatched(name) ? array.takeSamples(indices) : array));
        return new Dataset(taken, labels.map(array -> array.takeSamples(indices)), manifest);
    }

    /** The format's rules over array headers, shared by the writer and the reader. */
    static void checkConsistent(Map<String, NpyHeader> inputs, Optional<NpyHeader> labels, DatasetManifest manifest) {
        if (inputs.isEmpty()) {
            throw new DatasetFormatException("dataset has no inputs; add one <input_name>.npy per model input");
        }
        manifest.check(inputs);
        inputs.forEach((name, header) -> {
            checkInputName(name);
            if (header.shape().length == 0 && manifest.isBatched(name)) {
                throw new DatasetFormatException("input '" + name + "' is a 0-d array; its first axis must be the sample"
                        + " axis, or declare it in " + DatasetManifest.ENTRY + " as {\"inputs\": {\"" + name
                        + "\": {\"batch_axis\": null}}} to feed it unchanged with every batch");
            }
        });
        if (inputs.keySet().stream().noneMatch(manifest::isBatched)) {
            throw new DatasetFormatException("every input of the dataset is declared constant (batch_axis null), so it"
                    + " has no samples; store at least one input sample-first");
        }
        labels.ifPresent(header -> {
            if (header.shape().length != 1 || !header.dtype().isInteger()) {
                throw new DatasetFormatException("labels.npy must be a 1-D integer array (<i8, <i4 or |u1), got " + header);
            }
        });
        Map<String, Long> lengths = new LinkedHashMap<>();
        inputs.forEach((name, header) -> {
            if (manifest.isBatched(name)) {
                lengths.put(name + NPY_SUFFIX, header.shape()[0]);
            }
        });
        labels.ifPresent(header -> lengths.put(LABELS + NPY_SUFFIX, header.shape()[0]));
        if (lengths.values().stream().distinct().count() > 1) {
            throw new DatasetFormatException("dataset arrays disagree on the number of samples (first axis): "
                    + lengths.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                            .collect(Collectors.joining(", "))
                    + "; every array needs one row per sample");
        }
        long samples = lengths.values().iterator().next();
        if (samples == 0) {
            throw new DatasetFormatException("dataset has no samples: every array's first axis is 0");
        }
        if (manifest.sequenceLength().isPresent() && samples % manifest.sequenceLength().getAsInt() != 0) {
            throw new DatasetFormatException(DatasetManifest.ENTRY + ": sequence_length is "
                    + manifest.sequenceLength().getAsInt() + " but the dataset has " + samples
                    + " samples, not a whole number of sequences; pad or trim the last sequence");
        }
    }

    static void checkInputName(String name) {
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals(LABELS)) {
            throw new DatasetFormatException("'" + name + "' cannot be a dataset input name: it must be non-empty,"
                    + " contain no '/' or '\\' and not be '" + LABELS + "' (reserved for labels.npy)");
        }
    }
}
