package dev.anvil.modelkit.datasets;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Turns the MNIST IDX files (images {@code idx3-ubyte}, labels {@code idx1-ubyte}, gzipped or not) into a
 * dataset: one input of float32 {@code [n, 1, 28, 28]} holding the raw pixel values 0..255, which is what
 * the CNN digit model expects (it normalises inside the graph), and int64 {@code labels}.
 */
public final class MnistImporter {
    private final String inputName;

    /** @param inputName the model input the images feed, e.g. {@code input_image} */
    public MnistImporter(String inputName) {
        Dataset.checkInputName(inputName);
        this.inputName = inputName;
    }

    public Dataset read(Path images, Path labels) throws IOException {
        NpyArray pixels = IdxReader.read(images, IdxReader.IMAGES_MAGIC);
        NpyArray digits = IdxReader.read(labels, IdxReader.LABELS_MAGIC);
        long[] shape = pixels.shape();
        if (shape[0] != digits.shape()[0]) {
            throw new DatasetFormatException(images.getFileName() + " holds " + shape[0] + " images but "
                    + labels.getFileName() + " holds " + digits.shape()[0] + " labels; use files from the same set");
        }
        return Dataset.of(Map.of(inputName, toFloatImages(pixels)), toLongLabels(digits));
    }

    /** Writes every sample, in file order, to {@code out}. */
    public void importAll(Path images, Path labels, Path out) throws IOException {
        DatasetWriter.write(out, read(images, labels));
    }

    /**
     * Shuffles with {@code seed}, then writes the first {@code firstCount} samples to {@code first} (e.g. 256
     * for calibration) and the rest to {@code rest} (evaluation). The same seed always gives the same split.
     */
    public void importSplit(Path images, Path labels, long seed, int firstCount, Path first, Path rest)
            throws IOException {
        List<Dataset> parts = read(images, labels).shuffled(seed).split(firstCount);
        DatasetWriter.write(first, parts.get(0));
        DatasetWriter.write(rest, parts.get(1));
    }

    private static NpyArray toFloatImages(NpyArray pixels) {
        long[] shape = pixels.shape();
        byte[] bytes = pixels.data();
        float[] values = new float[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            values[i] = Byte.toUnsignedInt(bytes[i]);
        }
        return NpyArray.ofFloat32(new long[] {shape[0], 1, shape[1], shape[2]}, values);
    }

    private static NpyArray toLongLabels(NpyArray digits) {
        byte[] bytes = digits.data();
        long[] values = new long[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            values[i] = Byte.toUnsignedInt(bytes[i]);
        }
        return NpyArray.ofInt64(digits.shape(), values);
    }
}
