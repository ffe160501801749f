package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvDatasetImporterTest {
    @TempDir
    Path dir;

    private final CsvDatasetImporter importer = new CsvDatasetImporter();

    @Test
    void digitsHasNoHeaderAndIsGzipped() throws IOException {
        Dataset digits = importer.read(SharedData.file("sklearn/digits.csv.gz"));

        NpyArray input = digits.inputs().get("input");
        assertThat(input.shape()).containsExactly(1_797, 64);
        assertThat(input.dtype()).isEqualTo(NpyDtype.FLOAT32);
        assertThat(Arrays.copyOf(input.toFloatArray(), 8)).containsExactly(0, 0, 5, 13, 9, 1, 0, 0);
        assertThat(counts(digits)).containsExactly(Map.entry(0L, 178L), Map.entry(1L, 182L), Map.entry(2L, 177L),
                Map.entry(3L, 183L), Map.entry(4L, 181L), Map.entry(5L, 182L), Map.entry(6L, 181L),
                Map.entry(7L, 179L), Map.entry(8L, 174L), Map.entry(9L, 180L));
    }

    @Test
    void irisHasAScikitLearnHeaderAndThreeClassesOf50() throws IOException {
        Dataset iris = new CsvDatasetImporter("float_input").read(SharedData.file("sklearn/iris.csv"));

        NpyArray input = iris.inputs().get("float_input");
        assertThat(input.shape()).containsExactly(150, 4);
        assertThat(Arrays.copyOf(input.toFloatArray(), 4)).containsExactly(5.1f, 3.5f, 1.4f, 0.2f);
        assertThat(counts(iris)).containsExactly(Map.entry(0L, 50L), Map.entry(1L, 50L), Map.entry(2L, 50L));
    }

    @Test
    void breastCancerAndWine() throws IOException {
        Dataset cancer = importer.read(SharedData.file("sklearn/breast_cancer.csv"));
        Dataset wine = importer.read(SharedData.file("sklearn/wine_data.csv"));

        assertThat(cancer.inputs().get("input").shape()).containsExactly(569, 30);
        assertThat(counts(cancer)).containsExactly(Map.entry(0L, 212L), Map.entry(1L, 357L));
        assertThat(wine.inputs().get("input").shape()).containsExactly(178, 13);
        assertThat(counts(wine)).containsExactly(Map.entry(0L, 59L), Map.entry(1L, 71L), Map.entry(2L, 48L));
    }

    @Test
    void gzipIsFoundByItsMagicBytesWithoutTheSuffix() throws IOException {
        Path renamed = dir.resolve("digits.csv");
        Files.copy(SharedData.file("sklearn/digits.csv.gz"), renamed);

        assertThat(importer.read(renamed).inputs().get("input").shape()).containsExactly(1_797, 64);
    }

    @Test
    void columnNamesAndAllNumericSklearnHeadersAreRecognised() throws IOException {
        Path named = write("named.csv", "a,b,target\n1,2,0\n3,4,1\n");
        Path numericHeader = write("numeric-header.csv", "2,2,0,1\n1,2,0\n3,4,1\n");
        Path data = write("data.csv", "1,2,0\n3,4,1\n5,6,1\n");

        for (Path file : new Path[] {named, numericHeader}) {
            Dataset dataset = importer.read(file);
            assertThat(dataset.inputs().get("input").toFloatArray()).as(file.toString()).containsExactly(1, 2, 3, 4);
            assertThat(dataset.labels().orElseThrow().toLongArray()).containsExactly(0, 1);
        }
        // an all-numeric first line is data unless its first two cells are the row and feature counts
        assertThat(importer.read(data).labels().orElseThrow().toLongArray()).containsExactly(0, 1, 1);
    }

    @Test
    void splitsIrisBySeed() throws IOException {
        Path first = dir.resolve("first.zip");
        Path rest = dir.resolve("rest.zip");

        importer.importSplit(SharedData.file("sklearn/iris.csv"), 3, 30, first, rest);

        try (DatasetReader a = DatasetReader.open(first); DatasetReader b = DatasetReader.open(rest)) {
            assertThat(a.sampleCount()).isEqualTo(30);
            assertThat(b.sampleCount()).isEqualTo(120);
            assertThat(a.readAll()).isEqualTo(importer.read(SharedData.file("sklearn/iris.csv")).shuffled(3).split(30).get(0));
        }
    }

    @Test
    void quotedCellsCrlfLineEndsAndBlankLinesAreRead() throws IOException {
        Path quoted = write("quoted.csv", "\"length, cm\",\"width, cm\",target\n\"1.5\", 2 ,\"0\"\n3,\"4\",1\n");
        Path crlf = write("crlf.csv", "2,2,a,b\r\n1.5,2,0\r\n3,4,1\r\n");
        Path blanks = write("blanks.csv", "\n1.5,2,0\n  \n3,4,1\n\n");

        for (Path file : new Path[] {quoted, crlf, blanks}) {
            Dataset dataset = importer.read(file);
            assertThat(dataset.inputs().get("input").toFloatArray()).as(file.toString()).containsExactly(1.5f, 2, 3, 4);
            assertThat(dataset.labels().orElseThrow().toLongArray()).as(file.toString()).containsExactly(0, 1);
        }
    }

    @Test
    void lineNumbersCountBlankLinesAndCrlf() throws IOException {
        Path crlf = write("crlf.csv", "1,2,0\r\n\r\n3,x,1\r\n");
        Path multiline = write("multiline.csv", "a,\"b\nc\",target\n1,2,0\n1,2\n");

        assertThatThrownBy(() -> importer.read(crlf))
                .hasMessageContaining("crlf.csv line 3 column 2: 'x' is not a number");
        assertThatThrownBy(() -> importer.read(multiline))
                .hasMessageContaining("multiline.csv line 4: expected 3 columns");
    }

    @Test
    void aMalformedQuoteNamesLine() throws IOException {
        Path stray = write("stray.csv", "1,2,0\n\"3\"x,4,1\n");
        Path unclosed = write("unclosed.csv", "1,2,0\n\n3,\"4,1\n5,6,1\n");

        assertThatThrownBy(() -> importer.read(stray))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("stray.csv line 2: ")
                .hasMessageContaining("a quoted cell ends with a quote followed by a comma or the end of the line");
        assertThatThrownBy(() -> importer.read(unclosed))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("unclosed.csv line 3: ")
                .hasMessageContaining("EOF");
    }

    @Test
    void aRaggedRowNamesLineAndCounts() throws IOException {
        Path file = write("ragged.csv", "3,4,a,b,c\n1,2,3,4,0\n1,2,3,0\n1,2,3,4,1\n");

        assertThatThrownBy(() -> importer.read(file))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("ragged.csv line 3: expected 5 columns (4 features and a label")
                .hasMessageContaining("found 4");
    }

    @Test
    void aNonNumericCellNamesLineAndColumn() throws IOException {
        Path feature = write("feature.csv", "1,2,0\n\n3,abc,1\n");
        Path empty = write("empty-cell.csv", "1,2,0\n3,,1\n");
        Path label = write("label.csv", "1,2,0\n3,4,1.5\n");

        assertThatThrownBy(() -> importer.read(feature))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("feature.csv line 3 column 2: 'abc' is not a number");
        assertThatThrownBy(() -> importer.read(empty))
                .hasMessageContaining("empty-cell.csv line 2 column 2: the cell is empty");
        assertThatThrownBy(() -> importer.read(label))
                .hasMessageContaining("label.csv line 2 column 3 (label): '1.5' is not an integer class label");
    }

    @Test
    void aHeaderThatDisagreesWithTheFileIsNamed() throws IOException {
        Path samples = write("samples.csv", "3,2,a,b\n1,2,0\n3,4,1\n");
        Path features = write("features.csv", "2,3,a,b\n1,2,0\n3,4,1\n");
        Path classes = write("classes.csv", "2,2,a,b\n1,2,0\n3,4,2\n");

        assertThatThrownBy(() -> importer.read(samples))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("samples.csv line 1: scikit-learn header '3,2,a,b' declares 3 samples but the"
                        + " file has 2 data rows");
        assertThatThrownBy(() -> importer.read(features))
                .hasMessageContaining("features.csv line 2: expected 4 columns (3 features and a label, as the header"
                        + " on line 1 declares), found 3");
        assertThatThrownBy(() -> importer.read(classes))
                .hasMessageContaining("classes.csv line 3 column 3 (label): label 2 is outside the 2 classes the"
                        + " header names [a, b]");
    }

    @Test
    void emptyAndCorruptFilesAreNamed() throws IOException {
        Path empty = write("empty.csv", "\n\n");
        Path headerOnly = write("header.csv", "0,4,a,b\n");
        Path corrupt = dir.resolve("corrupt.csv.gz");
        byte[] gzip = Files.readAllBytes(SharedData.file("sklearn/digits.csv.gz"));
        Files.write(corrupt, Arrays.copyOf(gzip, gzip.length / 2));

        assertThatThrownBy(() -> importer.read(empty))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("empty.csv holds no rows");
        assertThatThrownBy(() -> importer.read(headerOnly))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("header.csv has a header line but no data rows");
        assertThatThrownBy(() -> importer.read(corrupt))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("corrupt.csv.gz is not valid gzip data after line")
                .hasMessageContaining("corrupt or truncated");
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static Map<Long, Long> counts(Dataset dataset) {
        Map<Long, Long> counts = new TreeMap<>();
        for (long label : dataset.labels().orElseThrow().toLongArray()) {
            counts.merge(label, 1L, Long::sum);
        }
        return counts;
    }
}
