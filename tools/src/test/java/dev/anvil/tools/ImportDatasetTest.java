package dev.anvil.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.TextDatasetImporter;
import dev.anvil.modelkit.datasets.TextDatasetImporterTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ImportDatasetTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void csvSplitWritesBothFilesAndSaysWhatItWrote() throws IOException {
        Path first = dir.resolve("iris/calibration.zip");
        Path rest = dir.resolve("iris/evaluation.zip");

        int status = run("csv", "--input", "float_input", "--seed", "5", "--split", "30",
                "--out", first.toString(), "--rest", rest.toString(), SharedData.file("sklearn/iris.csv").toString());

        assertThat(status).as(err()).isZero();
        assertThat(out()).contains("read 150 samples")
                .contains("wrote " + first + " (" + Files.size(first) + " bytes): 30 samples")
                .contains("float_input  float32 [30, 4]")
                .contains("wrote " + rest + " (" + Files.size(rest) + " bytes): 120 samples")
                .contains("labels       int64 [120]  counts 0: ");
        try (DatasetReader reader = DatasetReader.open(first)) {
            assertThat(reader.readAll()).isEqualTo(
                    new CsvDatasetImporter("float_input").read(SharedData.file("sklearn/iris.csv")).shuffled(5).split(30).get(0));
        }
    }

    @Test
    void textWithATokenizerAndTwoInputNames() throws IOException {
        Path tokenizer = TextDatasetImporterTest.miniLmTokenizer(dir);
        Path tsv = Files.writeString(dir.resolve("mail.tsv"), TextDatasetImporterTest.HEADER
                + "spam\ts\t1\tWin money\tclick here\nham\th\t2\tRe: lunch\tsee you at noon\n");
        Path zip = dir.resolve("mail.zip");

        int status = run("text", "--tokenizer", tokenizer.toString(), "--max-length", "16", "--inputs", "ids,mask",
                "--out", zip.toString(), tsv.toString());

        assertThat(status).as(err()).isZero();
        assertThat(out()).contains("0 of 2 texts fill all 16 tokens").contains("ids     int64 [2, 16]")
                .contains("counts 0: 1, 1: 1");
        try (DatasetReader reader = DatasetReader.open(zip)) {
            assertThat(reader.inputNames()).containsExactly("ids", "mask");
            assertThat(reader.labels().orElseThrow().toLongArray()).containsExactly(1, 0);
        }
    }

    @Test
    void helpShowsEveryCommandAndTheDefaults() {
        assertThat(run("--help")).isZero();
        assertThat(out()).contains("Usage: import-dataset [-h] (mnist | text | csv)").contains("csv ").contains("Exit status");

        assertThat(run("text", "--help")).isZero();
        assertThat(out()).contains("Usage: import-dataset text")
                .contains("--max-length=N").contains("Default: 128")
                .contains("Default: input_ids,attention_mask,token_type_ids")
                .contains("--out=FILE.zip").contains("--split=N");
        assertThat(err()).isEmpty();
    }

    @Test
    void textDefaultsAreTheToolkitsDefaults() {
        CommandLine commandLine = new CommandLine(new ImportDataset());
        ImportDataset.Text text = (ImportDataset.Text) commandLine
                .parseArgs("text", "--tokenizer", "t.json", "--out", "x.zip", "in.tsv")
                .subcommand().commandSpec().userObject();

        assertThat(text.maxLength).isEqualTo(TextDatasetImporter.DEFAULT_MAX_LENGTH);
        assertThat(text.inputs).isEqualTo(TextDatasetImporter.InputNames.BERT);
        assertThat(new TextDatasetImporter.TsvColumns(text.labelColumn, text.textColumns, text.labelNames))
                .isEqualTo(TextDatasetImporter.TsvColumns.SPAMASSASSIN);
    }

    @Test
    void noOrAnUnknownCommandListsTheCommands() {
        assertThat(run()).isEqualTo(2);
        assertThat(err()).contains("import-dataset: no command given; expected one of [mnist, text, csv]")
                .contains("Usage: import-dataset");

        assertThat(run("parquet", "--out", "x.zip")).isEqualTo(2);
        assertThat(err()).contains("unknown command 'parquet'; expected one of [mnist, text, csv]");
        assertThat(out()).isEmpty();
    }

    @Test
    void anUnknownOptionIsNamedWithTheUsageOfItsCommand() {
        assertThat(run("csv", "--colour", "red", "--out", "x.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("import-dataset csv: unknown option '--colour'")
                .doesNotContain("in.csv").contains("Usage: import-dataset csv");

        assertThat(run("csv", "--inptu", "x", "--out", "x.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("unknown option '--inptu'").contains("Possible solutions: --input");

        assertThat(run("csv", "--out", "x.zip", "a.csv", "b.csv")).isEqualTo(2);
        assertThat(err()).contains("unexpected argument 'b.csv'; csv reads one CSV");

        assertThat(run("mnist", "--images", "i.gz", "--labels", "l.gz", "--out", "x.zip", "extra")).isEqualTo(2);
        assertThat(err()).contains("unexpected argument 'extra'; mnist takes its files as options");
    }

    @Test
    void aMissingRequiredOptionOrInputIsNamed() {
        assertThat(run("mnist", "--images", "i.gz", "--out", "x.zip")).isEqualTo(2);
        assertThat(err()).contains("Missing required option: '--labels=IDX'");

        assertThat(run("csv", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("Missing required option: '--out=FILE.zip'");

        assertThat(run("csv", "--out", "x.zip")).isEqualTo(2);
        assertThat(err()).contains("Missing required parameter: 'CSV'");
    }

    @Test
    void aValueOfTheWrongTypeIsNamed() {
        assertThat(run("csv", "--seed", "abc", "--out", "x.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("Invalid value for option '--seed': 'abc' is not a long");

        assertThat(run("text", "--tokenizer", "t.json", "--max-length", "many", "--out", "x.zip", "in.tsv")).isEqualTo(2);
        assertThat(err()).contains("Invalid value for option '--max-length': 'many' is not an int");

        assertThat(run("text", "--tokenizer", "t.json", "--inputs", "ids", "--out", "x.zip", "in.tsv")).isEqualTo(2);
        assertThat(err()).contains("Invalid value for option '--inputs': expected 2 or 3 comma-separated input names");

        assertThat(run("csv", "--input", "labels", "--out", "x.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("import-dataset csv: --input: 'labels' cannot be a dataset input name")
                .contains("Usage: import-dataset csv");

        assertThat(run("text", "--tokenizer", "t.json", "--label-names", "ham,ham", "--out", "x.zip", "in.tsv"))
                .isEqualTo(2);
        assertThat(err()).contains("import-dataset text: label names must differ, got [ham, ham]")
                .contains("Usage: import-dataset text");
    }

    @Test
    void splitOptionsAreCheckedBeforeTheInputIsRead() {
        // in.csv does not exist: each check fails first
        assertThat(run("csv", "--split", "10", "--out", "a.zip", "--rest", "b.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("--split needs --seed").doesNotContain("no such file");

        assertThat(run("csv", "--seed", "1", "--split", "10", "--out", "a.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("--split N and --rest REST.zip go together");

        assertThat(run("csv", "--seed", "1", "--split", "0", "--out", "a.zip", "--rest", "b.zip", "in.csv"))
                .isEqualTo(2);
        assertThat(err()).contains("--split needs at least 1 sample, got 0");

        assertThat(run("csv", "--seed", "1", "--split", "5", "--out", "a.zip", "--rest", "./a.zip", "in.csv"))
                .isEqualTo(2);
        assertThat(err()).contains("--out and --rest name the same file a.zip");
    }

    @Test
    void aSplitAsLargeAsTheInputIsAUsageError() throws IOException {
        Path csv = Files.writeString(dir.resolve("two.csv"), "5,6,0\n7,8,1\n");

        assertThat(run("csv", "--seed", "1", "--split", "2", "--out", dir.resolve("a.zip").toString(),
                "--rest", dir.resolve("b.zip").toString(), csv.toString())).isEqualTo(2);
        assertThat(err()).contains("--split 2 leaves no samples for --rest: the input holds 2");
        assertThat(dir.resolve("a.zip")).doesNotExist();
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        return ImportDataset.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
