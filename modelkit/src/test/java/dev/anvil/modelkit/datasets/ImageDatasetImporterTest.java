package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.datasets.ImageDatasetImporter.Color;
import dev.anvil.modelkit.datasets.ImageDatasetImporter.Layout;
import dev.anvil.modelkit.datasets.ImageDatasetImporter.Options;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDatasetImporterTest {
    @TempDir Path dir;

    private static Options gray(int size, Layout layout) {
        return new Options("input", size, size, Color.GRAYSCALE, layout, 1f, new float[] {0}, new float[] {1});
    }

    @Test
    void labelsComeFromFolderNamesAndPixelsAreNormalisedPerChannel() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("dog/b.png", png(solid(4, 4, 0x102030)));
        entries.put("cat/a.png", png(solid(4, 4, 0xff0000)));
        entries.put("cat/", null);
        Path zip = zip(entries);
        Options rgb = new Options("pixels", 4, 4, Color.RGB, Layout.NCHW, 1f / 255,
                new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.25f, 0.5f});

        ImageDatasetImporter.Result result = new ImageDatasetImporter(rgb).read(zip, ZipLimits.DEFAULT);

        NpyArray input = result.dataset().inputs().get("pixels");
        assertThat(input.shape()).containsExactly(2, 3, 4, 4);
        assertThat(result.classes()).containsExactly("cat", "dog");
        // sorted by entry name: cat/a.png first
        assertThat(result.dataset().labels().orElseThrow().toLongArray()).containsExactly(0, 1);
        float[] v = input.toFloatArray();
        assertThat(v[0]).isEqualTo((1f - 0.5f) / 0.5f);          // red of cat, channel 0
        assertThat(v[16]).isEqualTo((0f - 0.5f) / 0.25f);        // green of cat, channel 1
        assertThat(v[48]).isCloseTo((0x10 / 255f - 0.5f) / 0.5f, org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void nhwcInterleavesChannelsAndGrayscaleIsLuma() throws IOException {
        Path zip = zip(Map.of("x.png", png(solid(2, 2, 0x0a141e))));
        Options nhwc = new Options("input", 2, 2, Color.RGB, Layout.NHWC, 1f, new float[] {0}, new float[] {1});
        float[] v = new ImageDatasetImporter(nhwc).read(zip, ZipLimits.DEFAULT).dataset().inputs().get("input")
                .toFloatArray();
        assertThat(v).startsWith(10f, 20f, 30f, 10f, 20f, 30f);

        ImageDatasetImporter.Result gray = new ImageDatasetImporter(gray(2, Layout.NCHW)).read(zip, ZipLimits.DEFAULT);
        assertThat(gray.dataset().inputs().get("input").shape()).containsExactly(1, 1, 2, 2);
        assertThat(gray.dataset().inputs().get("input").toFloatArray()[0])
                .isCloseTo(0.299f * 10 + 0.587f * 20 + 0.114f * 30, org.assertj.core.data.Offset.offset(1e-4f));
        assertThat(gray.dataset().labels()).isEmpty();
    }

    @Test
    void grayPngsKeepTheirExactValuesAndAreResizedBilinearly() throws IOException {
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setSample(0, 0, 0, 100);
        image.getRaster().setSample(1, 0, 0, 200);
        Path zip = zip(Map.of("7/a.png", png(image)));
        Options wide = new Options("input", 4, 1, Color.GRAYSCALE, Layout.NCHW, 1f, new float[] {0}, new float[] {1});

        ImageDatasetImporter.Result result = new ImageDatasetImporter(wide).read(zip, ZipLimits.DEFAULT);

        // half-pixel centres: 100, 125, 175, 200
        assertThat(result.dataset().inputs().get("input").toFloatArray()).containsExactly(100f, 125f, 175f, 200f);
        // integer folder names are the labels themselves
        assertThat(result.classes()).isEmpty();
        assertThat(result.dataset().labels().orElseThrow().toLongArray()).containsExactly(7);
    }

    @Test
    void labelsCsvNamesEveryImage() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("a.png", png(solid(3, 3, 0)));
        entries.put("b.jpg", jpeg(solid(3, 3, 0xffffff)));
        entries.put("labels.csv", "file,label\na.png,3\nb.jpg,1\n".getBytes(StandardCharsets.UTF_8));
        ImageDatasetImporter.Result result = new ImageDatasetImporter(gray(3, Layout.NCHW)).read(zip(entries),
                ZipLimits.DEFAULT);
        assertThat(result.dataset().labels().orElseThrow().toLongArray()).containsExactly(3, 1);

        entries.put("labels.csv", "a.png,3\n".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> new ImageDatasetImporter(gray(3, Layout.NCHW)).read(zip(entries), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("'b.jpg' has no line in labels.csv");
    }

    @Test
    void pathTraversalNonImagesAndZipBombsAreRefusedNamingTheEntry() throws IOException {
        ImageDatasetImporter importer = new ImageDatasetImporter(gray(2, Layout.NCHW));
        assertThatThrownBy(() -> importer.read(zip(Map.of("../evil.png", png(solid(2, 2, 0)))), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("entry '../evil.png'").hasMessageContaining("'..'");
        assertThatThrownBy(() -> importer.read(zip(Map.of("/etc/x.png", png(solid(2, 2, 0)))), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("absolute path");
        assertThatThrownBy(() -> importer.read(zip(Map.of("cat/notes.txt", "hello".getBytes())), ZipLimits.DEFAULT))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("entry 'cat/notes.txt' is not a PNG or JPEG image");

        Path bomb = zip(Map.of("cat/big.png", new byte[20_000_000]));
        assertThat(Files.size(bomb)).isLessThan(100_000);
        assertThatThrownBy(() -> importer.read(bomb, new ZipLimits(100, 1_000_000)))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("entry 'cat/big.png'").hasMessageContaining("inflates past 1000000 bytes");

        Map<String, byte[]> many = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            many.put(i + ".png", png(solid(2, 2, 0)));
        }
        assertThatThrownBy(() -> importer.read(zip(many), new ZipLimits(4, 1_000_000)))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("lists 5 entries; at most 4");
    }

    static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        return image;
    }

    static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    static byte[] jpeg(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "jpeg", out);
        return out.toByteArray();
    }

    private Path zip(Map<String, byte[]> entries) throws IOException {
        Path file = Files.createTempFile(dir, "images", ".zip");
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                if (e.getValue() != null) {
                    zip.write(e.getValue());
                }
                zip.closeEntry();
            }
        }
        return file;
    }
}
