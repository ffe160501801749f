package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
    @TempDir
    Path dir;

    @Test
    void writesAndReadsInputsAndLabels() throws IOException {
        Map<String, NpyArray> inputs = new LinkedHashMap<>();
        inputs.put("input_ids", NpyArray.ofInt64(new long[] {3, 2}, new long[] {1, 2, 3, 4, 5, 6}));
        inputs.put("attention_mask", NpyArray.ofInt64(new long[] {3, 2}, new long[] {1, 1, 1, 0, 1, 1}));
        Dataset dataset = Dataset.of(inputs, NpyArray.ofInt32(new long[] {3}, new int[] {0, 1, 0}));
        Path zip = dir.resolve("set.zip");

        DatasetWriter.write(zip, dataset);

        try (DatasetReader reader = DatasetReader.open(zip)) {
            assertThat(reader.inputNames()).containsExactly("input_ids", "attention_mask");
            assertThat(reader.sampleCount()).isEqualTo(3);
            assertThat(reader.shape("input_ids")).containsExactly(3, 2);
            assertThat(reader.dtype("attention_mask")).isEqualTo(NpyDtype.INT64);
            assertThat(reader.hasLabels()).isTrue();
            assertThat(reader.labels().orElseThrow().toIntArray()).containsExactly(0, 1, 0);
            try (NpyBatches batches = reader.batches("input_ids", 2)) {
                assertThat(batches.next().toLongArray()).containsExactly(1, 2, 3, 4);
                assertThat(batches.next().toLongArray()).containsExactly(5, 6);
                assertThat(batches.hasNext()).isFalse();
            }
            assertThat(reader.readAll()).isEqualTo(dataset);
        }
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(zip);
        }
    }

    @Test
    void labelsAreOptional() throws IOException {
        Path zip = dir.resolve("unlabelled.zip");
        DatasetWriter.write(zip, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {1, 2}, new float[2])),
                Optional.empty()));

        try (DatasetReader reader = DatasetReader.open(zip)) {
            assertThat(reader.hasLabels()).isFalse();
            assertThat(reader.labels()).isEmpty();
        }
    }

    @Test
    void unknownInputListsTheKnownOnes() throws IOException {
        Path zip = dir.resolve("set.zip");
        DatasetWriter.write(zip, new Dataset(Map.of("input_image", NpyArray.ofFloat32(new long[] {1}, new float[1])),
                Optional.empty()));

        try (DatasetReader reader = DatasetReader.open(zip)) {
            assertThatThrownBy(() -> reader.batches("pixels", 8))
                    .hasMessage("unknown input 'pixels', expected one of [input_image]");
        }
    }

    @Test
    void mismatchedSampleCountsNameTheArraysAndLengths() throws IOException {
        Path zip = zipOf(Map.of(
                "a.npy", NpyArray.ofFloat32(new long[] {3, 2}, new float[6]),
                "labels.npy", NpyArray.ofInt64(new long[] {2}, new long[2])));

        assertThatThrownBy(() -> DatasetReader.open(zip))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("a.npy=3").hasMessageContaining("labels.npy=2");
        assertThatThrownBy(() -> Dataset.of(
                Map.of("a", NpyArray.ofFloat32(new long[] {3}, new float[3])),
                NpyArray.ofInt64(new long[] {2}, new long[2])))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("a.npy=3, labels.npy=2");
    }

    @Test
    void labelsMustBeOneDimensionalIntegers() throws IOException {
        Path floats = zipOf(Map.of(
                "a.npy", NpyArray.ofFloat32(new long[] {2}, new float[2]),
                "labels.npy", NpyArray.ofFloat32(new long[] {2}, new float[2])));
        Path matrix = zipOf(Map.of(
                "a.npy", NpyArray.ofFloat32(new long[] {2}, new float[2]),
                "labels.npy", NpyArray.ofInt64(new long[] {2, 1}, new long[2])));

        assertThatThrownBy(() -> DatasetReader.open(floats)).hasMessageContaining("1-D integer array");
        assertThatThrownBy(() -> DatasetReader.open(matrix)).hasMessageContaining("1-D integer array");
    }

    @Test
    void emptyOrForeignArchivesAreRejected() throws IOException {
        Path noInputs = zipOf(Map.of("labels.npy", NpyArray.ofInt64(new long[] {1}, new long[1])));
        Path noSamples = zipOf(Map.of("a.npy", NpyArray.ofFloat32(new long[] {0, 3}, new float[0])));
        Map<String, NpyArray> withText = new LinkedHashMap<>();
        withText.put("a.npy", NpyArray.ofFloat32(new long[] {1}, new float[1]));
        withText.put("README.txt", null);
        Path stray = zipOf(withText);
        Path notZip = Files.writeString(dir.resolve("plain.zip"), "hello");

        assertThatThrownBy(() -> DatasetReader.open(noInputs)).hasMessageContaining("dataset has no inputs");
        assertThatThrownBy(() -> DatasetReader.open(noSamples)).hasMessageContaining("dataset has no samples");
        assertThatThrownBy(() -> DatasetReader.open(stray)).hasMessageContaining("unexpected entry 'README.txt'");
        assertThatThrownBy(() -> DatasetReader.open(notZip)).isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("not a zip archive");
    }

    @Test
    void badNpyInsideTheZipNamesTheEntry() throws IOException {
        Path zip = dir.resolve("bad.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("input_image.npy"));
            out.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        }

        assertThatThrownBy(() -> DatasetReader.open(zip)).hasMessageStartingWith("input_image.npy: not an npy file");
    }

    @Test
    void reservedOrPathLikeInputNamesAreRejected() {
        NpyArray one = NpyArray.ofFloat32(new long[] {1}, new float[1]);
        assertThatThrownBy(() -> new Dataset(Map.of("labels", one), Optional.empty()))
                .hasMessageContaining("reserved for labels.npy");
        assertThatThrownBy(() -> new Dataset(Map.of("../x", one), Optional.empty())).hasMessageContaining("no '/'");
    }

    @Test
    void shuffleIsDeterministicAndSplitKeepsInputsWithTheirLabels() {
        long[] ids = new long[20];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        Dataset dataset = Dataset.of(Map.of("x", NpyArray.ofInt64(new long[] {20, 1}, ids)),
                NpyArray.ofInt64(new long[] {20}, ids));

        Dataset shuffled = dataset.shuffled(7);
        var parts = shuffled.split(5);

        assertThat(shuffled).isEqualTo(dataset.shuffled(7)).isNotEqualTo(dataset);
        assertThat(parts.get(0).sampleCount()).isEqualTo(5);
        assertThat(parts.get(1).sampleCount()).isEqualTo(15);
        assertThat(parts.get(1).inputs().get("x").toLongArray()).containsExactly(parts.get(1).labels().orElseThrow().toLongArray());
        assertThatThrownBy(() -> dataset.split(20)).hasMessageContaining("between 1 and 19");
    }

    /** Zips arrays under the given entry names, bypassing the writer's checks; a null array writes text. */
    private Path zipOf(Map<String, NpyArray> entries) throws IOException {
        Path zip = Files.createTempFile(dir, "raw", ".zip");
        try (OutputStream file = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(file)) {
            for (Map.Entry<String, NpyArray> entry : new java.util.TreeMap<>(entries).entrySet()) {
                out.putNextEntry(new ZipEntry(entry.getKey()));
                if (entry.getValue() == null) {
                    out.write("not an array".getBytes());
                } else {
                    NpyWriter.write(out, entry.getValue());
                }
                out.closeEntry();
            }
        }
        return zip;
    }
}
