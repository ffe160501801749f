package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyArray;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How often each id occurs in some integer inputs of a calibration dataset, for weighing the rows of the embedding
 * tables they index ({@link LowRankOptions.EmbeddingWeights#TOKEN_FREQUENCY}). Where the dataset has an
 * {@code attention_mask} of the same shape as the ids, padded positions (mask 0) are not counted: the model reads
 * the padding id there, but nothing downstream reads what it makes of it.
 */
public final class TokenCounts {
    private TokenCounts() {}

    /**
     * Counts per id over the first {@code samples} samples.
     *
     * @param inputs the id inputs with the number of rows of the table each indexes ({@link
     *               LowRankFactorizer#tokenCountInputs})
     * @throws IllegalArgumentException when an input is missing or not integer, or an id is outside its table
     */
    public static Map<String, long[]> count(DatasetReader reader, Map<String, Integer> inputs, int samples)
            throws IOException {
        if (samples < 1 || samples > InputGrams.MAX_SAMPLES) {
            throw new IllegalArgumentException("calibration samples must be 1 to " + InputGrams.MAX_SAMPLES + ", got "
                    + samples);
        }
        Dataset data = reader.readAll();
        NpyArray mask = data.inputs().get(InputGrams.ATTENTION_MASK);
        Map<String, long[]> counts = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : inputs.entrySet()) {
            NpyArray ids = data.inputs().get(e.getKey());
            if (ids == null) {
                throw new IllegalArgumentException("the calibration dataset has no input '" + e.getKey() + "' (it has "
                        + data.inputs().keySet() + "); token frequencies are counted from the ids the model is fed");
            }
            if (!ids.dtype().isInteger()) {
                throw new IllegalArgumentException("calibration input '" + e.getKey() + "' is " + ids.dtype()
                        + ", not integer ids");
            }
            long[] shape = ids.shape();
            long perSample = ids.elementCount() / Math.max(1, shape[0]);
            long n = Math.min(samples, shape[0]) * perSample;
            boolean masked = mask != null && java.util.Arrays.equals(mask.shape(), shape) && mask.dtype().isInteger();
            long[] c = new long[e.getValue()];
            for (long i = 0; i < n; i++) {
                if (masked && mask.getLong(i) == 0) {
                    continue;
                }
                long id = ids.getLong(i);
                if (id < 0 || id >= c.length) {
                    throw new IllegalArgumentException("calibration input '" + e.getKey() + "' holds id " + id
                            + " (sample " + i / perSample + "), outside the embedding table's " + c.length + " rows");
                }
                c[(int) id]++;
            }
            counts.put(e.getKey(), c);
        }
        return counts;
    }
}
