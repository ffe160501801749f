package dev.anvil.modelkit.datasets;

import ai.djl.engine.EngineException;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns labelled text into a token dataset for a transformer encoder, using a Hugging Face {@code tokenizer.json}
 * through DJL's bundled native tokenizers library (no network, no Python).
 *
 * <p>Input is a UTF-8 TSV file, gzipped or not, whose first line names its columns, e.g. the SpamAssassin set
 * {@code label group id subject body_first1000}. The text of a row is its text columns joined by a newline
 * ({@code subject + "\n" + body_first1000} by default) and its label is the index of the label column's value in
 * {@link TsvColumns#labelNames()} ({@code ham} = 0, {@code spam} = 1). Blank lines are skipped.
 *
 * <p>Output is three int64 arrays {@code [n, maxLength]}, named as the model's inputs: token ids (with the
 * tokenizer's special tokens, e.g. {@code [CLS] ... [SEP]}), attention mask and token type ids, plus int64
 * {@code labels}. Longer texts are truncated to {@code maxLength} tokens; shorter ones are padded with the
 * tokenizer's pad id (its {@code padding.pad_id}, else its {@code [PAD]} or {@code <pad>} token), attention mask 0
 * and the pad type id.
 */
public final class TextDatasetImporter implements AutoCloseable {
    public static final int DEFAULT_MAX_LENGTH = 128;

    private static final int BATCH = 512;
    private static final List<String> PAD_TOKENS = List.of("[PAD]", "<pad>");

    /**
     * The model inputs the token arrays feed. {@code tokenTypeIds} is empty for models without that input
     * (DistilBERT, RoBERTa exports); then the array is not written.
     */
    public record InputNames(String inputIds, String attentionMask, Optional<String> tokenTypeIds) {
        /** BERT-style names, which are exactly the inputs of all-MiniLM-L6-v2. */
        public static final InputNames BERT =
                new InputNames("input_ids", "attention_mask", Optional.of("token_type_ids"));

        public InputNames {
            List<String> all = new ArrayList<>(List.of(inputIds, attentionMask));
            tokenTypeIds.ifPresent(all::add);
            all.forEach(Dataset::checkInputName);
            if (new LinkedHashSet<>(all).size() != all.size()) {
                throw new IllegalArgumentException("token input names must differ, got " + all);
            }
        }

        /** Parses {@code input_ids,attention_mask[,token_type_ids]}: two or three names, in that role order. */
        public static InputNames parse(String commaSeparated) {
            String[] names = commaSeparated.split(",", -1);
            if (names.length < 2 || names.length > 3) {
                throw new IllegalArgumentException("expected 2 or 3 comma-separated input names (token ids, attention"
                        + " mask[, token type ids]), got '" + commaSeparated + "'");
            }
            return new InputNames(names[0].strip(), names[1].strip(),
                    names.length == 3 ? Optional.of(names[2].strip()) : Optional.empty());
        }

        public List<String> all() {
            List<String> all = new ArrayList<>(List.of(inputIds, attentionMask));
            tokenTypeIds.ifPresent(all::add);
            return all;
        }
    }

    /**
     * Which header-named TSV columns hold the label and the text, and the label values in id order.
     *
     * @param textColumns joined with a newline, in this order, to form one text
     */
    public record TsvColumns(String labelColumn, List<String> textColumns, List<String> labelNames) {
        /** The SpamAssassin set in shared/data: {@code subject + "\n" + body_first1000}, ham = 0, spam = 1. */
        public static final TsvColumns SPAMASSASSIN =
                new TsvColumns("label", List.of("subject", "body_first1000"), List.of("ham", "spam"));

        public TsvColumns {
            textColumns = List.copyOf(textColumns);
            labelNames = List.copyOf(labelNames);
            if (textColumns.isEmpty() || labelNames.isEmpty()) {
                throw new IllegalArgumentException("need at least one text column and one label name");
            }
            if (new LinkedHashSet<>(labelNames).size() != labelNames.size()) {
                throw new IllegalArgumentException("label names must differ, got " + labelNames);
            }
        }
    }

    /** One row of the TSV: its text and label id, and the line it came from. */
    public record LabelledText(int line, String text, long label) {}

    private final Path tokenizerFile;
    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;
    private final InputNames names;
    private final TsvColumns columns;
    private final long padId;
    private final long padTypeId;

    /** MiniLM/BERT defaults: 128 tokens, inputs {@code input_ids, attention_mask, token_type_ids}, ham/spam TSV. */
    public TextDatasetImporter(Path tokenizerJson) throws IOException {
        this(tokenizerJson, DEFAULT_MAX_LENGTH, InputNames.BERT, TsvColumns.SPAMASSASSIN);
    }

    /**
     * Loads {@code tokenizerJson} (a Hugging Face {@code tokenizer.json}).
     *
     * @throws NoSuchFileException when the file does not exist, naming it
     * @throws DatasetFormatException when it is not a tokenizer the native library accepts, or has no pad token
     */
    public TextDatasetImporter(Path tokenizerJson, int maxLength, InputNames names, TsvColumns columns)
            throws IOException {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must leave room for the special tokens, got " + maxLength);
        }
        this.tokenizerFile = tokenizerJson;
        this.maxLength = maxLength;
        this.names = names;
        this.columns = columns;
        if (Files.isDirectory(tokenizerJson)) {
            throw new DatasetFormatException("tokenizer " + tokenizerJson + " is a directory; pass its tokenizer.json file");
        }
        if (!Files.exists(tokenizerJson)) {
            throw new NoSuchFileException(tokenizerJson.toAbsolutePath().toString(), null,
                    "tokenizer JSON not found (expected a Hugging Face tokenizer.json)");
        }
        byte[] bytes = Files.readAllBytes(tokenizerJson);
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new DatasetFormatException("tokenizer " + tokenizerJson + " is not JSON: " + e.getOriginalMessage());
        }
        if (json == null || !json.path("model").isObject()) {
            throw new DatasetFormatException("tokenizer " + tokenizerJson + " is not a Hugging Face tokenizer.json:"
                    + " it has no \"model\" object");
        }
        long[] pad = padToken(tokenizerJson, json);
        this.padId = pad[0];
        this.padTypeId = pad[1];
        optOutOfDjlTelemetry();
        Map<String, String> options = new LinkedHashMap<>();
        options.put("addSpecialTokens", "true");
        options.put("truncation", "true");
        options.put("padding", "false"); // padded here, with the pad id resolved above
        options.put("maxLength", String.valueOf(maxLength));
        options.put("modelMaxLength", String.valueOf(maxLength)); // else DJL caps maxLength at 512
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), options);
        } catch (EngineException e) {
            throw new IllegalStateException("the Hugging Face tokenizers native library (bundled in"
                    + " ai.djl.huggingface:tokenizers for linux/macOS/windows x86_64 and aarch64) could not be loaded"
                    + " on this platform: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new DatasetFormatException("tokenizer " + tokenizerJson + " could not be loaded by the Hugging Face"
                    + " tokenizers library: " + e.getMessage());
        }
    }

    public int maxLength() {
        return maxLength;
    }

    /** The id short texts are padded with. */
    public long padId() {
        return padId;
    }

    /** Tokenises {@code texts} in order into the named {@code [n, maxLength]} int64 arrays. */
    public Map<String, NpyArray> tokenize(List<String> texts) {
        int n = texts.size();
        long[] ids = new long[Math.multiplyExact(n, maxLength)];
        long[] mask = new long[ids.length];
        long[] types = new long[ids.length];
        Arrays.fill(ids, padId);
        Arrays.fill(types, padTypeId);
        for (int start = 0; start < n; start += BATCH) {
            String[] batch = texts.subList(start, Math.min(n, start + BATCH)).toArray(String[]::new);
            Encoding[] encodings = tokenizer.batchEncode(batch);
            for (int i = 0; i < encodings.length; i++) {
                long[] tokenIds = encodings[i].getIds();
                if (tokenIds.length > maxLength) {
                    throw new IllegalStateException("tokenizer " + tokenizerFile + " returned " + tokenIds.length
                            + " tokens for text " + (start + i) + " despite truncation to " + maxLength);
                }
                int offset = (start + i) * maxLength;
                System.arraycopy(tokenIds, 0, ids, offset, tokenIds.length);
                System.arraycopy(encodings[i].getAttentionMask(), 0, mask, offset, tokenIds.length);
                System.arraycopy(encodings[i].getTypeIds(), 0, types, offset, tokenIds.length);
            }
        }
        long[] shape = {n, maxLength};
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put(names.inputIds(), NpyArray.ofInt64(shape, ids));
        arrays.put(names.attentionMask(), NpyArray.ofInt64(shape, mask));
        names.tokenTypeIds().ifPresent(name -> arrays.put(name, NpyArray.ofInt64(shape, types)));
        return arrays;
    }

    /** Reads and tokenises every row of {@code tsv}, in file order. */
    public Dataset read(Path tsv) throws IOException {
        List<LabelledText> rows = readTsv(tsv, columns);
        List<String> texts = new ArrayList<>(rows.size());
        long[] labels = new long[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            texts.add(rows.get(i).text());
            labels[i] = rows.get(i).label();
        }
        return Dataset.of(tokenize(texts), NpyArray.ofInt64(new long[] {rows.size()}, labels));
    }

    /** Writes every sample, in file order, to {@code out}. */
    public void importAll(Path tsv, Path out) throws IOException {
        DatasetWriter.write(out, read(tsv));
    }

    /**
     * Shuffles with {@code seed}, then writes the first {@code firstCount} samples to {@code first} (e.g. for
     * calibration) and the rest to {@code rest} (evaluation). The same seed always gives the same split.
     */
    public void importSplit(Path tsv, long seed, int firstCount, Path first, Path rest) throws IOException {
        List<Dataset> parts = read(tsv).shuffled(seed).split(firstCount);
        DatasetWriter.write(first, parts.get(0));
        DatasetWriter.write(rest, parts.get(1));
    }

    /** Reads the labelled texts of a headed TSV file; errors name the file, the line and what is wrong. */
    public static List<LabelledText> readTsv(Path tsv, TsvColumns columns) throws IOException {
        String file = tsv.getFileName().toString();
        List<TextFiles.Line> lines = TextFiles.readLines(tsv);
        if (lines.isEmpty()) {
            throw new DatasetFormatException(file + " is empty; expected a header line naming the columns, e.g. "
                    + String.join("\\t", headerExample(columns)));
        }
        TextFiles.Line headerLine = lines.get(0);
        List<String> header = List.of(headerLine.text().split("\t", -1));
        int labelIndex = column(file, headerLine, header, columns.labelColumn());
        int[] textIndices = columns.textColumns().stream()
                .mapToInt(name -> column(file, headerLine, header, name)).toArray();
        List<LabelledText> rows = new ArrayList<>(lines.size() - 1);
        for (TextFiles.Line line : lines.subList(1, lines.size())) {
            String[] fields = line.text().split("\t", -1);
            if (fields.length != header.size()) {
                throw new DatasetFormatException(file + " line " + line.number() + ": expected " + header.size()
                        + " tab-separated fields (" + String.join(", ", header) + ") as the header on line "
                        + headerLine.number() + " names, found " + fields.length);
            }
            String label = fields[labelIndex];
            int id = columns.labelNames().indexOf(label);
            if (id < 0) {
                throw new DatasetFormatException(file + " line " + line.number() + ": unknown label '" + label
                        + "' in column '" + columns.labelColumn() + "'; expected one of " + columns.labelNames());
            }
            StringBuilder text = new StringBuilder();
            for (int t = 0; t < textIndices.length; t++) {
                if (t > 0) {
                    text.append('\n');
                }
                text.append(fields[textIndices[t]]);
            }
            rows.add(new LabelledText(line.number(), text.toString(), id));
        }
        if (rows.isEmpty()) {
            throw new DatasetFormatException(file + " has a header line but no rows");
        }
        return rows;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static int column(String file, TextFiles.Line headerLine, List<String> header, String name) {
        int index = header.indexOf(name);
        if (index < 0) {
            throw new DatasetFormatException(file + " line " + headerLine.number() + ": the header has no '" + name
                    + "' column; its columns are " + header + " (the first line must name the columns)");
        }
        return index;
    }

    private static List<String> headerExample(TsvColumns columns) {
        List<String> example = new ArrayList<>(List.of(columns.labelColumn()));
        example.addAll(columns.textColumns());
        return example;
    }

    /** {pad id, pad type id}: the tokenizer's padding section, else its [PAD] or <pad> token with type 0. */
    private static long[] padToken(Path file, JsonNode json) {
        JsonNode padding = json.path("padding");
        if (padding.path("pad_id").canConvertToLong()) {
            return new long[] {padding.get("pad_id").asLong(), padding.path("pad_type_id").asLong(0)};
        }
        for (String token : PAD_TOKENS) {
            for (JsonNode added : json.path("added_tokens")) {
                if (token.equals(added.path("content").asText(null)) && added.path("id").canConvertToLong()) {
                    return new long[] {added.get("id").asLong(), 0};
                }
            }
            JsonNode vocabId = json.path("model").path("vocab").path(token);
            if (vocabId.canConvertToLong()) {
                return new long[] {vocabId.asLong(), 0};
            }
        }
        throw new DatasetFormatException("tokenizer " + file + " names no pad token: its \"padding\" section is null"
                + " and it has no " + String.join(" or ", PAD_TOKENS) + " token, so short texts cannot be padded;"
                + " add \"padding\": {\"pad_id\": ..., \"pad_type_id\": 0, ...} to the JSON");
    }

    /**
     * DJL's tokenizer factory otherwise queries the EC2 metadata endpoint and, on EC2, reports usage to AWS. An
     * importer must work offline and send nothing, so opt out unless the operator has chosen either way.
     */
    private static void optOutOfDjlTelemetry() {
        if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }
}
