package dev.anvil.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.CsvDatasetImporter;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.TextDatasetImporterTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void usageErrorsPrintUsageAndExit2() {
        assertThat(run()).isEqualTo(2);
        assertThat(err()).contains("no command given").contains("usage: ImportDataset <mnist|text|csv>");

        assertThat(run("csv", "--colour", "red", "--out", "x.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("unknown option --colour for csv");

        assertThat(run("csv", "--split", "10", "--out", "a.zip", "--rest", "b.zip", "in.csv")).isEqualTo(2);
        assertThat(err()).contains("--split needs --seed");

        assertThat(run("mnist", "--images", "i.gz", "--out", "x.zip")).isEqualTo(2);
        assertThat(err()).contains("--labels is required for mnist");

        assertThat(run("text", "--tokenizer", "t.json", "--max-length", "many", "--out", "x.zip", "in.tsv")).isEqualTo(2);
        assertThat(err()).contains("--max-length needs an integer, got 'many'");

        assertThat(run("parquet", "--out", "x.zip")).isEqualTo(2);
        assertThat(err()).contains("unknown command 'parquet'");
        assertThat(out()).isEmpty();
    }

    @Test
    void unreadableInputExits1NamingTheFile() throws IOException {
        Path missing = dir.resolve("missing.csv");
        Path ragged = Files.writeString(dir.resolve("ragged.csv"), "1,2,0\n3,1\n");

        assertThat(run("csv", "--out", dir.resolve("x.zip").toString(), missing.toString())).isEqualTo(1);
        assertThat(err()).contains("no such file: " + missing).doesNotContain("usage:");

        assertThat(run("csv", "--out", dir.resolve("x.zip").toString(), ragged.toString())).isEqualTo(1);
        assertThat(err()).contains("ragged.csv line 2: expected 3 columns");
        assertThat(dir.resolve("x.zip")).doesNotExist();
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
