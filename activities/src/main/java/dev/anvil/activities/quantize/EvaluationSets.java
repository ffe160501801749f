package dev.anvil.activities.quantize;

import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where quantize's self-evaluation takes its samples when the spec names no evaluation set: a
 * deterministic slice held out of the calibration set (the samples in an order drawn from a fixed
 * seed, the last fifth of them, at most {@value #MAX_HELD_OUT}), never calibrated on. Shuffling first
 * matters: real sets are often grouped by class (the MNIST files are), and a plain tail would hold one
 * class. The calibration set is read into memory once to split it.
 */
final class EvaluationSets {
    static final long SEED = 13;
    static final int MAX_HELD_OUT = 500;
    /** Fewer held-out samples than this say too little; the set is then not split. */
    static final int MIN_HELD_OUT = 10;

    /**
     * @param heldOutSamples 0 when the set was too small to split: then {@code calibration} and
     *     {@code heldOut} are both the whole set
     */
    record Split(Path calibration, Path heldOut, long total, long heldOutSamples) {
        boolean tooSmall() {
            return heldOutSamples == 0;
        }
    }

    private EvaluationSets() {}

    /** Splits {@code dataset}; new files go to {@code created} (the caller deletes them). */
    static Split split(Path dataset, List<Path> created) throws IOException {
        Dataset all;
        try (DatasetReader reader = DatasetReader.open(dataset)) {
            all = reader.readAll();
        }
        long n = all.sampleCount();
        long heldOut = Math.min(n / 5, MAX_HELD_OUT);
        if (heldOut < MIN_HELD_OUT) {
            return new Split(dataset, dataset, n, 0);
        }
        List<Dataset> parts = all.shuffled(SEED).split((int) (n - heldOut));
        Path calibration = write(parts.get(0), "anvil-calibration-", created);
        Path evaluation = write(parts.get(1), "anvil-held-out-", created);
        return new Split(calibration, evaluation, n, heldOut);
    }

    /**
     * The samples of {@code dataset} repeated until there are at least {@code minSamples}, so a small
     * evaluation set still gives latency enough batches for warm-up and a median; the set itself when it
     * is large enough.
     */
    static Path tiled(Path dataset, long minSamples, List<Path> created) throws IOException {
        Dataset all;
        try (DatasetReader reader = DatasetReader.open(dataset)) {
            if (reader.sampleCount() >= minSamples) {
                return dataset;
            }
            all = reader.readAll();
        }
        int n = (int) all.sampleCount();
        int[] indices = new int[(int) minSamples];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = i % n;
        }
        Map<String, NpyArray> inputs = new LinkedHashMap<>();
        all.inputs().forEach((name, array) -> inputs.put(name, array.takeSamples(indices)));
        return write(new Dataset(inputs, all.labels().map(l -> l.takeSamples(indices))), "anvil-latency-", created);
    }

    private static Path write(Dataset dataset, String prefix, List<Path> created) throws IOException {
        Path file = Files.createTempFile(prefix, ".zip");
        created.add(file);
        DatasetWriter.write(file, dataset);
        return file;
    }
}
