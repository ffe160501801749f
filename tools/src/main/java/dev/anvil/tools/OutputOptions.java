package dev.anvil.tools;

import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** Where an import's samples go, the same for every importer: one file in order or shuffled, or a shuffled split. */
final class OutputOptions {
    @Option(names = "--out", required = true, paramLabel = "FILE.zip", order = 100,
            description = "the dataset zip: every sample, or the first N with --split")
    Path out;

    @Option(names = "--seed", paramLabel = "S", order = 101, description = "shuffle the samples with this seed")
    Optional<Long> seed;

    @Option(names = "--split", paramLabel = "N", order = 102,
            description = "write the first N shuffled samples (e.g. calibration) to --out, the rest to --rest;"
                    + " needs --seed")
    Optional<Integer> split;

    @Option(names = "--rest", paramLabel = "REST.zip", order = 103, description = "the samples after the first N")
    Optional<Path> rest;

    /** Checks the options together, before any input is read. */
    Plan plan(CommandLine commandLine) {
        if (split.isPresent() != rest.isPresent()) {
            throw new ParameterException(commandLine, "--split N and --rest REST.zip go together");
        }
        if (split.isPresent() && seed.isEmpty()) {
            throw new ParameterException(commandLine,
                    "--split needs --seed: files are often grouped by class, so split a shuffle");
        }
        if (split.isPresent() && split.get() < 1) {
            throw new ParameterException(commandLine, "--split needs at least 1 sample, got " + split.get());
        }
        if (rest.isPresent() && rest.get().toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new ParameterException(commandLine, "--out and --rest name the same file " + out);
        }
        return new Plan(commandLine, this);
    }

    record Plan(CommandLine commandLine, OutputOptions options) {
        void write(Dataset dataset, PrintWriter out) throws IOException {
            Dataset ordered = options.seed.map(dataset::shuffled).orElse(dataset);
            if (options.split.isEmpty()) {
                writeOne(options.out, ordered, out);
                return;
            }
            int first = options.split.get();
            if (first >= ordered.sampleCount()) {
                throw new ParameterException(commandLine, "--split " + first + " leaves no samples for --rest: the"
                        + " input holds " + ordered.sampleCount());
            }
            List<Dataset> parts = ordered.split(first);
            writeOne(options.out, parts.get(0), out);
            writeOne(options.rest.get(), parts.get(1), out);
        }
    }

    private static void writeOne(Path file, Dataset dataset, PrintWriter out) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        DatasetWriter.write(file, dataset);
        out.println("wrote " + file + " (" + Files.size(file) + " bytes): " + dataset.sampleCount() + " samples");
        Map<String, NpyArray> arrays = new LinkedHashMap<>(dataset.inputs());
        dataset.labels().ifPresent(labels -> arrays.put(Dataset.LABELS, labels));
        int width = arrays.keySet().stream().mapToInt(String::length).max().orElse(0);
        arrays.forEach((name, array) -> {
            String line = String.format("  %-" + width + "s  %s %s", name,
                    array.dtype().name().toLowerCase(Locale.ROOT), Arrays.toString(array.shape()));
            if (name.equals(Dataset.LABELS)) {
                line += "  counts " + labelCounts(array);
            }
            out.println(line);
        });
    }

    private static String labelCounts(NpyArray labels) {
        Map<Long, Long> counts = new TreeMap<>();
        for (long i = 0; i < labels.elementCount(); i++) {
            counts.merge(labels.getLong(i), 1L, Long::sum);
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((label, count) -> parts.add(label + ": " + count));
        return String.join(", ", parts);
    }
}
