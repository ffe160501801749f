package dev.anvil.modelkit.evaluate;

import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * One batch of one output as plain numbers: a tensor's values in row-major order, or a sequence of
 * maps (ONNX-ML {@code ZipMap}: one map class → score per sample) as a dense {@code [B, C]} matrix whose
 * columns are the map keys in sorted order ({@link #keys}).
 *
 * @param values every value as a double (integers exactly up to 2^53)
 * @param shape the tensor's shape, or {@code [B, C]} for a sequence of maps
 * @param keys the class of each column of a sequence of maps (Long or String); null for a tensor
 */
public record OutputValues(double[] values, long[] shape, List<Object> keys) {

    /** Values per sample, for a batch of {@code samples}. */
    public int perSample(int samples) {
        return samples == 0 ? 0 : values.length / samples;
    }

    /**
     * @param keys the columns an earlier batch (or the other model) fixed, null for the first batch
     * @throws IllegalArgumentException when a sequence of maps has other keys than {@code keys}
     */
    public static OutputValues of(String output, OnnxValue value, List<Object> keys) throws OrtException {
        if (value instanceof OnnxTensor t) {
            return new OutputValues(numbers(output, t), t.getInfo().getShape(), null);
        }
        if (value instanceof OnnxSequence s && s.getInfo().sequenceOfMaps) {
            return dense(output, s, keys);
        }
        throw new IllegalArgumentException(OutputKind.unsupportedReason(output, value.getInfo()));
    }

    private static OutputValues dense(String output, OnnxSequence sequence, List<Object> keys) throws OrtException {
        List<? extends OnnxValue> maps = sequence.getValue();
        List<Object> columns = keys;
        List<Map<?, ?>> rows = new ArrayList<>();
        for (OnnxValue v : maps) {
            Map<?, ?> row = ((OnnxMap) v).getValue();
            rows.add(row);
            if (columns == null) {
                columns = sortedKeys(row);
            }
        }
        if (columns == null) {
            columns = List.of();
        }
        double[] values = new double[rows.size() * columns.size()];
        for (int s = 0; s < rows.size(); s++) {
            Map<?, ?> row = rows.get(s);
            if (row.size() != columns.size() || !row.keySet().containsAll(columns)) {
                throw new IllegalArgumentException("output '" + output + "' maps sample " + s + " of a batch to classes "
                        + sortedKeys(row) + " but other samples (or the other model) to " + columns
                        + ": a sequence of maps is compared class by class and needs the same classes everywhere");
            }
            for (int c = 0; c < columns.size(); c++) {
                values[s * columns.size() + c] = ((Number) row.get(columns.get(c))).doubleValue();
            }
        }
        return new OutputValues(values, new long[] {rows.size(), columns.size()}, List.copyOf(columns));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static List<Object> sortedKeys(Map<?, ?> row) {
        List<Object> keys = new ArrayList<>(row.keySet());
        keys.sort((Comparator) Comparator.naturalOrder());
        return keys;
    }

    private static double[] numbers(String output, OnnxTensor t) {
        switch (t.getInfo().type) {
            case FLOAT, FLOAT16, BFLOAT16 -> {
                FloatBuffer b = t.getFloatBuffer();
                double[] out = new double[b.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.get(i);
                }
                return out;
            }
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                double[] out = new double[b.remaining()];
                b.get(out);
                return out;
            }
            case INT64 -> {
                LongBuffer b = t.getLongBuffer();
                double[] out = new double[b.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.get(i);
                }
                return out;
            }
            case INT32 -> {
                IntBuffer b = t.getIntBuffer();
                double[] out = new double[b.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.get(i);
                }
                return out;
            }
            case INT16 -> {
                ShortBuffer b = t.getShortBuffer();
                double[] out = new double[b.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.get(i);
                }
                return out;
            }
            case INT8, UINT8, BOOL -> {
                ByteBuffer b = t.getByteBuffer();
                boolean unsigned = t.getInfo().type != ai.onnxruntime.OnnxJavaType.INT8;
                double[] out = new double[b.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = unsigned ? Byte.toUnsignedInt(b.get(i)) : b.get(i);
                }
                return out;
            }
            default -> throw new IllegalArgumentException(OutputKind.unsupportedReason(output, t.getInfo()));
        }
    }
}
