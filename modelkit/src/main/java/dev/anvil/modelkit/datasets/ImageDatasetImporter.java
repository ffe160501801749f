package dev.anvil.modelkit.datasets;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Turns a zip of PNG or JPEG images into a dataset: each image is decoded (javax.imageio), converted to
 * grayscale or RGB, resized (bilinear) to the declared width and height, and normalised per channel as
 * {@code (pixel * scale - mean[c]) / std[c]}; the result is one float32 input in NCHW ({@code [n, C, H, W]})
 * or NHWC ({@code [n, H, W, C]}) layout.
 *
 * <p>Labels come from, in this order:
 * <ul>
 *   <li>a top-level {@code labels.csv} of {@code file,label} lines (an optional header line
 *       {@code file,label}); every image must be listed;</li>
 *   <li>the folder an image sits in, {@code cat/001.png}: folders whose names are all integers give those
 *       integers, other names are numbered in sorted order ({@link Result#classes()});</li>
 *   <li>none, when every image is at the top level.</li>
 * </ul>
 * Images are read in sorted entry-name order, so the same archive always gives the same dataset. Entries
 * that are not images, images larger than {@link #MAX_PIXELS}, and names that climb out of the archive are
 * refused naming the entry; the archive's entry count and inflated size are bounded by {@link ZipLimits}.
 */
public final class ImageDatasetImporter {
    /** Largest decoded image, in pixels: a small PNG can declare a huge canvas. */
    public static final long MAX_PIXELS = 64L * 1024 * 1024;
    public static final String LABELS_CSV = "labels.csv";
    private static final Pattern INTEGER = Pattern.compile("\\d{1,18}");

    public enum Color {
        GRAYSCALE(1), RGB(3);

        private final int channels;

        Color(int channels) {
            this.channels = channels;
        }

        public int channels() {
            return channels;
        }
    }

    public enum Layout { NCHW, NHWC }

    /**
     * @param scale multiplies each 0..255 pixel first (1/255 gives 0..1)
     * @param mean  subtracted per channel after scaling: one value, or one per channel
     * @param std   divides per channel after the mean: one value, or one per channel; none may be 0
     */
    public record Options(String inputName, int width, int height, Color color, Layout layout, float scale,
                          float[] mean, float[] std) {
        public Options {
            Dataset.checkInputName(inputName);
            if (width < 1 || height < 1 || width > 8192 || height > 8192) {
                throw new IllegalArgumentException("image size must be 1..8192 pixels each way, got " + width + "x"
                        + height);
            }
            mean = perChannel("mean", mean, color);
            std = perChannel("std", std, color);
            for (float s : std) {
                if (s == 0 || !Float.isFinite(s)) {
                    throw new IllegalArgumentException("std must be finite and non-zero, got " + Arrays.toString(std));
                }
            }
            if (!Float.isFinite(scale) || scale == 0) {
                throw new IllegalArgumentException("scale must be finite and non-zero, got " + scale);
            }
        }

        private static float[] perChannel(String what, float[] values, Color color) {
            if (values.length == 1) {
                float[] all = new float[color.channels()];
                Arrays.fill(all, values[0]);
                return all;
            }
            if (values.length != color.channels()) {
                throw new IllegalArgumentException(what + " needs 1 or " + color.channels() + " values for "
                        + color.name().toLowerCase(Locale.ROOT) + " images, got " + values.length);
            }
            return values.clone();
        }
    }

    /** The dataset, and the class names its labels index (empty when labels are integers or absent). */
    public record Result(Dataset dataset, List<String> classes) {}

    private final Options options;

    public ImageDatasetImporter(Options options) {
        this.options = options;
    }

    public Result read(Path zipFile, ZipLimits limits) throws IOException {
        try (SafeZip zip = SafeZip.open(zipFile, "the image archive", limits)) {
            Optional<ZipEntry> labelsCsv = zip.files().stream().filter(e -> e.getName().equals(LABELS_CSV)).findFirst();
            List<ZipEntry> images = zip.files().stream().filter(e -> !e.getName().equals(LABELS_CSV))
                    .sorted(Comparator.comparing(ZipEntry::getName)).toList();
            if (images.isEmpty()) {
                throw new DatasetFormatException("the image archive holds no images; add PNG or JPEG files, e.g."
                        + " cat/001.png");
            }
            Map<String, String> labelText = labelsCsv.isPresent()
                    ? readLabelsCsv(new String(zip.readAll(labelsCsv.get()), StandardCharsets.UTF_8), images)
                    : folderLabels(images);
            int c = options.color().channels();
            int h = options.height();
            int w = options.width();
            int sample = Math.multiplyExact(Math.multiplyExact(c, h), w);
            float[] values = new float[Math.multiplyExact(sample, images.size())];
            for (int i = 0; i < images.size(); i++) {
                ZipEntry entry = images.get(i);
                float[][] planes = decode(entry.getName(), zip.readAll(entry));
                place(planes, values, i * sample);
            }
            long[] shape = options.layout() == Layout.NCHW
                    ? new long[] {images.size(), c, h, w}
                    : new long[] {images.size(), h, w, c};
            NpyArray input = NpyArray.ofFloat32(shape, values);
            if (labelText.isEmpty()) {
                return new Result(new Dataset(Map.of(options.inputName(), input), Optional.empty()), List.of());
            }
            List<String> classes = classes(labelText.values());
            long[] labels = new long[images.size()];
            for (int i = 0; i < images.size(); i++) {
                String label = labelText.get(images.get(i).getName());
                labels[i] = classes.isEmpty() ? Long.parseLong(label) : classes.indexOf(label);
            }
            return new Result(Dataset.of(Map.of(options.inputName(), input),
                    NpyArray.ofInt64(new long[] {images.size()}, labels)), classes);
        }
    }

    /** Integer labels stay themselves (no class names); any other name makes every label a sorted class. */
    private static List<String> classes(java.util.Collection<String> labels) {
        if (labels.stream().allMatch(l -> INTEGER.matcher(l).matches())) {
            return List.of();
        }
        return List.copyOf(new TreeSet<>(labels));
    }

    private static Map<String, String> folderLabels(List<ZipEntry> images) {
        Map<String, String> labels = new LinkedHashMap<>();
        long top = images.stream().filter(e -> e.getName().indexOf('/') < 0).count();
        if (top == images.size()) {
            return Map.of();
        }
        for (ZipEntry entry : images) {
            String name = entry.getName();
            String[] parts = name.split("/");
            if (parts.length != 2) {
                throw new DatasetFormatException("image '" + name + "' is not in a label folder one level deep;"
                        + " put every image in <label>/<file> (e.g. cat/001.png), or all at the top level with a "
                        + LABELS_CSV + " naming their labels");
            }
            labels.put(name, parts[0]);
        }
        return labels;
    }

    private static Map<String, String> readLabelsCsv(String text, List<ZipEntry> images) {
        Map<String, String> labels = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || (i == 0 && line.equalsIgnoreCase("file,label"))) {
                continue;
            }
            int comma = line.lastIndexOf(',');
            if (comma <= 0 || comma == line.length() - 1) {
                throw new DatasetFormatException(LABELS_CSV + " line " + (i + 1) + ": expected 'file,label', got '"
                        + line + "'");
            }
            labels.put(line.substring(0, comma).strip(), line.substring(comma + 1).strip());
        }
        Map<String, String> ordered = new LinkedHashMap<>();
        for (ZipEntry image : images) {
            String label = labels.remove(image.getName());
            if (label == null) {
                throw new DatasetFormatException("image '" + image.getName() + "' has no line in " + LABELS_CSV
                        + "; add '" + image.getName() + ",<label>'");
            }
            ordered.put(image.getName(), label);
        }
        if (!labels.isEmpty()) {
            throw new DatasetFormatException(LABELS_CSV + " names '" + labels.keySet().iterator().next()
                    + "', which is not an image in the archive; remove the line or add the image");
        }
        return ordered;
    }

    /** One entry decoded to {@code [channel][y * width + x]} at the target size, 0..255. */
    private float[][] decode(String name, byte[] bytes) throws IOException {
        BufferedImage image = readImage(name, bytes);
        int sw = image.getWidth();
        int sh = image.getHeight();
        Raster raster = image.getRaster();
        boolean gray = image.getColorModel().getNumColorComponents() == 1 && raster.getNumBands() <= 2
                && image.getColorModel().getPixelSize() <= 16 && image.getType() != BufferedImage.TYPE_BYTE_INDEXED;
        int channels = options.color().channels();
        float[][] source = new float[channels][sw * sh];
        for (int y = 0; y < sh; y++) {
            for (int x = 0; x < sw; x++) {
                int p = y * sw + x;
                if (gray) {
                    // the raw sample: getRGB would pass a gray image through a colour conversion that shifts it
                    int bits = image.getColorModel().getComponentSize(0);
                    float v = raster.getSample(x, y, 0) * 255f / ((1 << bits) - 1);
                    for (int c = 0; c < channels; c++) {
                        source[c][p] = v;
                    }
                } else {
                    int rgb = image.getRGB(x, y);
                    float r = (rgb >> 16) & 0xff;
                    float g = (rgb >> 8) & 0xff;
                    float b = rgb & 0xff;
                    if (channels == 1) {
                        source[0][p] = 0.299f * r + 0.587f * g + 0.114f * b; // ITU-R BT.601 luma, as PIL's "L"
                    } else {
                        source[0][p] = r;
                        source[1][p] = g;
                        source[2][p] = b;
                    }
                }
            }
        }
        if (sw == options.width() && sh == options.height()) {
            return source;
        }
        float[][] resized = new float[channels][];
        for (int c = 0; c < channels; c++) {
            resized[c] = bilinear(source[c], sw, sh, options.width(), options.height());
        }
        return resized;
    }

    private static BufferedImage readImage(String name, byte[] bytes) throws IOException {
        String notImage = "entry '" + name + "' is not a PNG or JPEG image; the archive may hold only images"
                + " (and an optional " + LABELS_CSV + ")";
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new DatasetFormatException(notImage);
            }
            ImageReader reader = readers.next();
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            if (!format.equals("png") && !format.equals("jpeg")) {
                reader.dispose();
                throw new DatasetFormatException("entry '" + name + "' is a " + format + " image; only PNG and JPEG"
                        + " are accepted");
            }
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new DatasetFormatException("entry '" + name + "' declares " + reader.getWidth(0) + "x"
                            + reader.getHeight(0) + " pixels, more than the " + MAX_PIXELS + " an image may have");
                }
                return reader.read(0);
            } catch (IOException | RuntimeException e) {
                if (e instanceof DatasetFormatException d) {
                    throw d;
                }
                throw new DatasetFormatException("entry '" + name + "' could not be decoded as " + format + ": "
                        + e.getMessage());
            } finally {
                reader.dispose();
            }
        }
    }

    /** Bilinear resampling with pixel centres aligned (half-pixel offsets), edges clamped. */
    static float[] bilinear(float[] src, int sw, int sh, int dw, int dh) {
        float[] out = new float[dw * dh];
        float sx = (float) sw / dw;
        float sy = (float) sh / dh;
        for (int y = 0; y < dh; y++) {
            float fy = Math.max(0, (y + 0.5f) * sy - 0.5f);
            int y0 = Math.min((int) fy, sh - 1);
            int y1 = Math.min(y0 + 1, sh - 1);
            float wy = fy - y0;
            for (int x = 0; x < dw; x++) {
                float fx = Math.max(0, (x + 0.5f) * sx - 0.5f);
                int x0 = Math.min((int) fx, sw - 1);
                int x1 = Math.min(x0 + 1, sw - 1);
                float wx = fx - x0;
                float top = src[y0 * sw + x0] * (1 - wx) + src[y0 * sw + x1] * wx;
                float bottom = src[y1 * sw + x0] * (1 - wx) + src[y1 * sw + x1] * wx;
                out[y * dw + x] = top * (1 - wy) + bottom * wy;
            }
        }
        return out;
    }

    /** Normalises one image's planes into the sample's slot of {@code values}, in the chosen layout. */
    private void place(float[][] planes, float[] values, int offset) {
        int channels = planes.length;
        int pixels = options.width() * options.height();
        for (int c = 0; c < channels; c++) {
            float mean = options.mean()[c];
            float std = options.std()[c];
            for (int p = 0; p < pixels; p++) {
                float v = (planes[c][p] * options.scale() - mean) / std;
                int index = options.layout() == Layout.NCHW ? c * pixels + p : p * channels + c;
                values[offset + index] = v;
            }
        }
    }

}
