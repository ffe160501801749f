package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetArchivesTest {
    @TempDir Path dir;

    @Test
    void aDatasetZipIsCheckedEntryByEntry() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", npy(NpyArray.ofFloat32(new long[] {3, 2}, new float[6])));
        entries.put("labels.npy", npy(NpyArray.ofInt64(new long[] {3}, new long[3])));
        DatasetArchives.Headers headers = DatasetArchives.checkDataset(zip(entries), ZipLimits.DEFAULT);
        assertThat(headers.inputs().keySet()).containsExactly("x");
        assertThat(headers.sampleCount()).isEqualTo(3);
        assertThat(headers.labels()).isPresent();

        entries.put("labels.npy", npy(NpyArray.ofInt64(new long[] {4}, new long[4])));
        assertThatThrownBy(() -> DatasetArchives.checkDataset(zip(entries), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("x.npy=3, labels.npy=4");

        byte[] full = npy(NpyArray.ofFloat32(new long[] {3, 2}, new float[6]));
        entries.put("labels.npy", npy(NpyArray.ofInt64(new long[] {3}, new long[3])));
        entries.put("x.npy", Arrays.copyOf(full, full.length - 4));
        assertThatThrownBy(() -> DatasetArchives.checkDataset(zip(entries), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("x.npy: its header declares");
    }

    @Test
    void aManifestDeclaringAConstantInputIsReadAndChecked() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x.npy", npy(NpyArray.ofFloat32(new long[] {3, 2}, new float[6])));
        entries.put("sr.npy", npy(NpyArray.ofInt64(new long[] {}, new long[] {16000})));
        entries.put(DatasetManifest.ENTRY, "{\"inputs\": {\"sr\": {\"batch_axis\": null}}}".getBytes());
        DatasetArchives.Headers headers = DatasetArchives.checkDataset(zip(entries), ZipLimits.DEFAULT);
        assertThat(headers.inputs().keySet()).containsExactly("x", "sr");
        assertThat(headers.manifest().isBatched("sr")).isFalse();
        assertThat(headers.sampleCount()).as("from the batched input, not the scalar").isEqualTo(3);

        entries.put(DatasetManifest.ENTRY, "{\"inputs\": {\"nope\": {\"batch_axis\": null}}}".getBytes());
        assertThatThrownBy(() -> DatasetArchives.checkDataset(zip(entries), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("nope");

        entries.put(DatasetManifest.ENTRY, new byte[DatasetArchives.MANIFEST_MAX_BYTES + 1]);
        assertThatThrownBy(() -> DatasetArchives.checkDataset(zip(entries), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("dataset.json is larger than");
    }

    @Test
    void mnistEntriesAreToldApartByTheirMagic() throws IOException {
        byte[] images = new byte[16 + 2 * 28 * 28];
        images[2] = 8;
        images[3] = 3;
        images[7] = 2;
        images[11] = 28;
        images[15] = 28;
        byte[] labels = {0, 0, 8, 1, 0, 0, 0, 2, 4, 9};
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("b", labels);
        entries.put("a", gzip(images));
        Dataset mnist = DatasetArchives.mnist(zip(entries), ZipLimits.DEFAULT, new MnistImporter("img"),
                Files.createTempDirectory(dir, "w"));
        assertThat(mnist.inputs().get("img").shape()).containsExactly(2, 1, 28, 28);
        assertThat(mnist.labels().orElseThrow().toLongArray()).containsExactly(4, 9);
    }

    private static byte[] npy(NpyArray array) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NpyWriter.write(out, array);
        return out.toByteArray();
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    private Path zip(Map<String, byte[]> entries) throws IOException {
        Path file = Files.createTempFile(dir, "d", ".zip");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }
}
