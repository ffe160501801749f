package dev.anvil.tools;

import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import dev.anvil.modelkit.datasets.TextDatasetImporter.InputNames;
import dev.anvil.modelkit.datasets.TextDatasetImporter.TsvColumns;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Command line for the dataset importers: writes dataset zips (see {@link Dataset}) from MNIST IDX files, labelled
 * text (tokenised with a Hugging Face tokenizer) or numeric CSV, optionally shuffled and split in two. Exit status:
 * 0 written, 1 unreadable input, 2 usage error.
 */
@Command(name = "import-dataset", synopsisSubcommandLabel = "(mnist | text | csv)",
        description = "Writes a dataset zip (NumPy arrays, one per model input, and labels) from MNIST IDX files,"
                + " labelled text or numeric CSV; see docs/datasets.md.",
        subcommands = {ImportDataset.Mnist.class, ImportDataset.Text.class, ImportDataset.Csv.class},
        footer = {"", "Exit status: 0 written, 1 unreadable input, 2 usage error."})
public final class ImportDataset implements Runnable {
    private static final String NAME = "import-dataset";

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, order = 1000,
            description = "Show this help.")
    boolean help;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line in-process and returns its exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintWriter errors = new PrintWriter(err, true);
        CommandLine commandLine = new CommandLine(new ImportDataset())
                .setOut(new PrintWriter(out, true))
                .setErr(errors)
                .setParameterExceptionHandler(ImportDataset::usageError)
                .setExecutionExceptionHandler(ImportDataset::failure);
        int status = commandLine.execute(args);
        errors.flush();
        return status;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "no command given; expected one of " + commandNames());
    }

    private List<String> commandNames() {
        return List.copyOf(spec.subcommands().keySet());
    }

    /** The message naming the bad option or value, then the usage of the command it was given to. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine commandLine = e.getCommandLine();
        PrintWriter err = commandLine.getErr();
        String message = e instanceof UnmatchedArgumentException unmatched
                ? unmatched(commandLine.getCommandSpec(), unmatched.getUnmatched()) : e.getMessage();
        err.println(commandLine.getCommandSpec().qualifiedName() + ": " + message);
        if (e instanceof UnmatchedArgumentException unmatched) {
            UnmatchedArgumentException.printSuggestions(unmatched, err);
        }
        err.println();
        commandLine.usage(err);
        return commandLine.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * Picocli reports every argument left over once an unknown option has taken the place of a value, so name the
     * unknown options alone when there are any.
     */
    private static String unmatched(CommandSpec command, List<String> arguments) {
        if (command.userObject() instanceof ImportDataset root && !arguments.get(0).startsWith("-")) {
            return "unknown command '" + arguments.get(0) + "'; expected one of " + root.commandNames();
        }
        List<String> options = arguments.stream().filter(argument -> argument.startsWith("-")).toList();
        if (!options.isEmpty()) {
            return "unknown option" + quoted(options);
        }
        return "unexpected argument" + quoted(arguments) + "; " + command.name() + command.positionalParameters().stream()
                .map(input -> " reads one " + input.paramLabel()).findFirst().orElse(" takes its files as options");
    }

    private static String quoted(List<String> arguments) {
        return (arguments.size() == 1 ? " '" : "s '") + String.join("', '", arguments) + "'";
    }

    /** Input that cannot be read names the file (and, for bad content, the line); anything else is a fault. */
    private static int failure(Exception e, CommandLine commandLine, ParseResult parseResult) throws Exception {
        PrintWriter err = commandLine.getErr();
        if (e instanceof NoSuchFileException missing) {
            err.println(NAME + ": no such file: " + missing.getMessage());
        } else if (e instanceof DatasetFormatException || e instanceof IOException) {
            err.println(NAME + ": " + e.getMessage());
        } else if (e instanceof IllegalArgumentException) {
            // the importers' own checks of option values: a --max-length too short for the special tokens,
            // repeated --label-names
            err.println(commandLine.getCommandSpec().qualifiedName() + ": " + e.getMessage());
            err.println();
            commandLine.usage(err);
            return commandLine.getCommandSpec().exitCodeOnInvalidInput();
        } else {
            throw e;
        }
        return commandLine.getCommandSpec().exitCodeOnExecutionException();
    }

    /** What every importer does: check the outputs, read the input, describe it and write it. */
    abstract static class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        OutputOptions output;

        abstract Dataset read() throws IOException;

        /** The importer for an {@code --input} name, a name the dataset format refuses being a usage error. */
        <T> T inputName(Supplier<T> importer) {
            try {
                return importer.get();
            } catch (DatasetFormatException e) {
                throw new ParameterException(spec.commandLine(), "--input: " + e.getMessage());
            }
        }

        /** Lines about the samples read, before the files are written. */
        void describe(Dataset dataset, PrintWriter out) {}

        @Override
        public Integer call() throws IOException {
            OutputOptions.Plan plan = output.plan(spec.commandLine());
            PrintWriter out = spec.commandLine().getOut();
            long started = System.nanoTime();
            Dataset dataset = read();
            out.println("read " + dataset.sampleCount() + " samples in " + (System.nanoTime() - started) / 1_000_000
                    + " ms");
            describe(dataset, out);
            plan.write(dataset, out);
            out.flush();
            return 0;
        }
    }

    @Command(name = "mnist", sortOptions = false, showDefaultValues = true,
            description = "MNIST idx3/idx1 files (.gz or not) -> float32 [n,1,28,28] raw pixels 0..255.")
    static final class Mnist extends Import {
        @Option(names = "--images", required = true, paramLabel = "IDX", description = "idx3 image file")
        Path images;

        @Option(names = "--labels", required = true, paramLabel = "IDX", description = "idx1 label file")
        Path labels;

        @Option(names = "--input", paramLabel = "NAME", defaultValue = "input_image", description = "model input name")
        String input;

        @Override
        Dataset read() throws IOException {
            return inputName(() -> new MnistImporter(input)).read(images, labels);
        }
    }

    @Command(name = "text", sortOptions = false, showDefaultValues = true,
            description = "Headed TSV (.gz or not) -> int64 [n,N] token ids, attention mask and token type ids.")
    static final class Text extends Import {
        @Option(names = "--tokenizer", required = true, paramLabel = "tokenizer.json",
                description = "Hugging Face tokenizer file")
        Path tokenizer;

        @Option(names = "--max-length", paramLabel = "N", defaultValue = "" + TextDatasetImporter.DEFAULT_MAX_LENGTH,
                description = "tokens per text, truncated or padded")
        int maxLength;

        @Option(names = "--inputs", paramLabel = "IDS,MASK[,TYPES]", converter = InputNamesConverter.class,
                defaultValue = "input_ids,attention_mask,token_type_ids",
                description = "model input names; give two for models without token type ids")
        InputNames inputs;

        @Option(names = "--label-column", paramLabel = "NAME", defaultValue = "label", description = "label column")
        String labelColumn;

        @Option(names = "--text-columns", paramLabel = "COLUMN", split = ",", defaultValue = "subject,body_first1000",
                description = "text columns, joined by a newline")
        List<String> textColumns;

        @Option(names = "--label-names", paramLabel = "LABEL", split = ",", defaultValue = "ham,spam",
                description = "label values in id order")
        List<String> labelNames;

        @Parameters(paramLabel = "TSV", description = "the texts, a header line naming the columns")
        Path tsv;

        @Override
        Dataset read() throws IOException {
            TsvColumns columns = new TsvColumns(labelColumn, strip(textColumns), strip(labelNames));
            try (TextDatasetImporter importer = new TextDatasetImporter(tokenizer, maxLength, inputs, columns)) {
                return importer.read(tsv);
            }
        }

        /** How many texts fill every token position: those were truncated, or fit exactly. */
        @Override
        void describe(Dataset dataset, PrintWriter out) {
            var mask = dataset.inputs().get(inputs.attentionMask());
            long[] shape = mask.shape();
            long full = 0;
            for (long sample = 0; sample < shape[0]; sample++) {
                if (mask.getLong(sample * shape[1] + shape[1] - 1) == 1) {
                    full++;
                }
            }
            out.println(full + " of " + shape[0] + " texts fill all " + shape[1] + " tokens (truncated or an exact fit)");
        }

        private static List<String> strip(List<String> names) {
            return names.stream().map(String::strip).toList();
        }
    }

    @Command(name = "csv", sortOptions = false, showDefaultValues = true,
            description = {"Numeric CSV (.gz or not), last column an integer label, optional scikit-learn header"
                    + " -> float32 [n,features]."})
    static final class Csv extends Import {
        @Option(names = "--input", paramLabel = "NAME", defaultValue = CsvDatasetImporter.DEFAULT_INPUT,
                description = "model input name")
        String input;

        @Parameters(paramLabel = "CSV", description = "the table")
        Path csv;

        @Override
        Dataset read() throws IOException {
            return inputName(() -> new CsvDatasetImporter(input)).read(csv);
        }
    }

    /** {@link InputNames#parse}, its complaint kept as the message for the option. */
    static final class InputNamesConverter implements ITypeConverter<InputNames> {
        @Override
        public InputNames convert(String value) {
            try {
                return InputNames.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
