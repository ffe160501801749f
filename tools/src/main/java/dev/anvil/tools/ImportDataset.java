package dev.anvil.tools;

import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.datasets.NpyDtype;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Command line for the dataset importers: writes dataset zips (see {@link Dataset}) from MNIST IDX files, labelled
 * text (tokenised with a Hugging Face tokenizer) or numeric CSV, optionally shuffled and split in two. Run without
 * arguments for usage. Exit status: 0 written, 1 unreadable input, 2 usage error.
 */
public final class ImportDataset {
    static final String USAGE = """
            usage: ImportDataset <mnist|text|csv> [options]

              mnist --images IDX --labels IDX [--input NAME]
                    MNIST idx3/idx1 files (.gz or not) -> float32 [n,1,28,28] raw pixels 0..255
                    --input   model input name (default input_image)
              text  --tokenizer tokenizer.json [--max-length N] [--inputs IDS,MASK[,TYPES]]
                    [--label-column NAME] [--text-columns A,B,...] [--label-names L0,L1,...] TSV
                    headed TSV (.gz or not) -> int64 [n,N] token ids, attention mask, token type ids
                    --max-length    tokens per text, truncated or padded (default 128)
                    --inputs        model input names (default input_ids,attention_mask,token_type_ids;
                                    give two names for models without token type ids)
                    --label-column  (default label)  --text-columns  joined by a newline
                    (default subject,body_first1000)  --label-names  label values in id order (default ham,spam)
              csv   [--input NAME] CSV
                    numeric CSV (.gz or not), last column an integer label, optional scikit-learn
                    header -> float32 [n,features]
                    --input   model input name (default input)

            output, for every command:
              --out FILE.zip                                  every sample, in file order
              --seed S --out FILE.zip                         every sample, shuffled with seed S
              --seed S --split N --out FIRST.zip --rest REST.zip
                                                              shuffled with seed S; the first N samples
                                                              to FIRST (e.g. calibration), the rest to REST
            """;

    private static final Set<String> COMMANDS = Set.of("mnist", "text", "csv");
    private static final Set<String> OUTPUT_OPTIONS = Set.of("--out", "--rest", "--seed", "--split");

    private ImportDataset() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line in-process and returns its exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.print(USAGE);
            return 0;
        }
        try {
            if (args.length == 0) {
                throw new UsageException("no command given");
            }
            Arguments arguments = Arguments.parse(args);
            if (!COMMANDS.contains(arguments.command)) {
                throw new UsageException("unknown command '" + arguments.command + "'");
            }
            Output output = Output.of(arguments);
            long started = System.nanoTime();
            Dataset dataset = switch (arguments.command) {
                case "mnist" -> mnist(arguments);
                case "text" -> text(arguments);
                default -> csv(arguments);
            };
            long millis = (System.nanoTime() - started) / 1_000_000;
            out.println("read " + dataset.sampleCount() + " samples in " + millis + " ms");
            if (arguments.command.equals("text")) {
                describeTokenFill(dataset, out);
            }
            output.write(dataset, out);
            return 0;
        } catch (UsageException | IllegalArgumentException e) {
            err.println("ImportDataset: " + e.getMessage());
            err.println();
            err.print(USAGE);
            return 2;
        } catch (DatasetFormatException | IOException e) {
            err.println("ImportDataset: " + (e instanceof java.nio.file.NoSuchFileException ? "no such file: " : "")
                    + e.getMessage());
            return 1;
        }
    }

    private static Dataset mnist(Arguments arguments) throws IOException {
        arguments.allow(Set.of("--images", "--labels", "--input"), 0);
        return new MnistImporter(arguments.option("--input").orElse("input_image"))
                .read(arguments.path("--images"), arguments.path("--labels"));
    }

    private static Dataset text(Arguments arguments) throws IOException {
        arguments.allow(Set.of("--tokenizer", "--max-length", "--inputs", "--label-column", "--text-columns",
                "--label-names"), 1);
        TextDatasetImporter.TsvColumns defaults = TextDatasetImporter.TsvColumns.SPAMASSASSIN;
        TextDatasetImporter.TsvColumns columns = new TextDatasetImporter.TsvColumns(
                arguments.option("--label-column").orElse(defaults.labelColumn()),
                arguments.option("--text-columns").map(ImportDataset::list).orElse(defaults.textColumns()),
                arguments.option("--label-names").map(ImportDataset::list).orElse(defaults.labelNames()));
        TextDatasetImporter.InputNames names = arguments.option("--inputs")
                .map(TextDatasetImporter.InputNames::parse).orElse(TextDatasetImporter.InputNames.BERT);
        int maxLength = arguments.option("--max-length").map(value -> integer("--max-length", value))
                .orElse(TextDatasetImporter.DEFAULT_MAX_LENGTH);
        try (TextDatasetImporter importer =
                new TextDatasetImporter(arguments.path("--tokenizer"), maxLength, names, columns)) {
            return importer.read(arguments.positional());
        }
    }

    private static Dataset csv(Arguments arguments) throws IOException {
        arguments.allow(Set.of("--input"), 1);
        return new CsvDatasetImporter(arguments.option("--input").orElse(CsvDatasetImporter.DEFAULT_INPUT))
                .read(arguments.positional());
    }

    /** Where the samples go: checked before any input is read. */
    private record Output(Path first, Optional<Long> seed, Optional<Integer> split, Optional<Path> rest) {
        static Output of(Arguments arguments) {
            Path first = arguments.path("--out");
            Optional<Long> seed = arguments.option("--seed").map(value -> longValue("--seed", value));
            Optional<Integer> split = arguments.option("--split").map(value -> integer("--split", value));
            Optional<Path> rest = arguments.option("--rest").map(Path::of);
            if (split.isPresent() != rest.isPresent()) {
                throw new UsageException("--split N and --rest FILE go together");
            }
            if (split.isPresent() && seed.isEmpty()) {
                throw new UsageException("--split needs --seed: files are often grouped by class, so split a shuffle");
            }
            return new Output(first, seed, split, rest);
        }

        void write(Dataset dataset, PrintStream out) throws IOException {
            Dataset ordered = seed.map(dataset::shuffled).orElse(dataset);
            if (split.isEmpty()) {
                writeOne(first, ordered, out);
                return;
            }
            List<Dataset> parts = ordered.split(split.get());
            writeOne(first, parts.get(0), out);
            writeOne(rest.get(), parts.get(1), out);
        }
    }

    private static void writeOne(Path file, Dataset dataset, PrintStream out) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        DatasetWriter.write(file, dataset);
        out.println("wrote " + file + " (" + Files.size(file) + " bytes): " + dataset.sampleCount() + " samples");
        Map<String, NpyArray> arrays = new LinkedHashMap<>(dataset.inputs());
        dataset.labels().ifPresent(labels -> arrays.put(Dataset.LABELS, labels));
        int width = arrays.keySet().stream().mapToInt(String::length).max().orElse(0);
        arrays.forEach((name, array) -> {
            String line = String.format("  %-" + width + "s  %s %s", name, dtypeName(array.dtype()),
                    Arrays.toString(array.shape()));
            if (name.equals(Dataset.LABELS)) {
                line += "  counts " + labelCounts(array);
            }
            out.println(line);
        });
    }

    /** How many texts fill every token position: those were truncated, or fit exactly. */
    private static void describeTokenFill(Dataset dataset, PrintStream out) {
        NpyArray mask = new ArrayList<>(dataset.inputs().values()).get(1);
        long[] shape = mask.shape();
        long full = 0;
        for (long sample = 0; sample < shape[0]; sample++) {
            if (mask.getLong(sample * shape[1] + shape[1] - 1) == 1) {
                full++;
            }
        }
        out.println(full + " of " + shape[0] + " texts fill all " + shape[1] + " tokens (truncated or an exact fit)");
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

    private static String dtypeName(NpyDtype dtype) {
        return switch (dtype) {
            case UINT8 -> "uint8";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case FLOAT32 -> "float32";
            case FLOAT64 -> "float64";
        };
    }

    private static List<String> list(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",", -1)).map(String::strip).toList();
    }

    private static int integer(String option, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException(option + " needs an integer, got '" + value + "'");
        }
    }

    private static long longValue(String option, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new UsageException(option + " needs an integer, got '" + value + "'");
        }
    }

    private static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** {@code command (--name value | positional)*}; each option at most once. */
    private static final class Arguments {
        final String command;
        final Map<String, String> options = new LinkedHashMap<>();
        final List<String> positionals = new ArrayList<>();

        private Arguments(String command) {
            this.command = command;
        }

        static Arguments parse(String[] args) {
            Arguments arguments = new Arguments(args[0]);
            for (int i = 1; i < args.length; i++) {
                String arg = args[i];
                if (!arg.startsWith("--")) {
                    arguments.positionals.add(arg);
                    continue;
                }
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new UsageException(arg + " needs a value");
                }
                if (arguments.options.put(arg, args[++i]) != null) {
                    throw new UsageException(arg + " given twice");
                }
            }
            return arguments;
        }

        void allow(Set<String> commandOptions, int positionalCount) {
            for (String option : options.keySet()) {
                if (!commandOptions.contains(option) && !OUTPUT_OPTIONS.contains(option)) {
                    throw new UsageException("unknown option " + option + " for " + command);
                }
            }
            if (positionals.size() != positionalCount) {
                throw new UsageException(command + " takes " + (positionalCount == 0 ? "no input file argument"
                        : positionalCount + " input file argument") + ", got " + positionals);
            }
        }

        Optional<String> option(String name) {
            return Optional.ofNullable(options.get(name));
        }

        Path path(String name) {
            return Path.of(option(name).orElseThrow(() -> new UsageException(name + " is required for " + command)));
        }

        Path positional() {
            return Path.of(positionals.get(0));
        }
    }
}
