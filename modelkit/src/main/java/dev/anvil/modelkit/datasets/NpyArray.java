package dev.anvil.modelkit.datasets;

import ai.onnxruntime.platform.Fp16Conversions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A dense C-ordered array as stored in an {@code .npy} file: element type, shape and the raw
 * little-endian element bytes. The first axis is the sample axis wherever datasets are concerned.
 *
 * <p>{@link #data()} is the backing array, not a copy, so that million-element tensors are not copied on
 * every hand-over; callers must not modify it.
 */
public record NpyArray(NpyDtype dtype, long[] shape, byte[] data) {

    public NpyArray {
        shape = shape.clone();
        long expected = Math.multiplyExact(NpyHeader.elementCount(shape), (long) dtype.itemSize());
        if (data.length != expected) {
            throw new IllegalArgumentException(dtype + " array of shape " + Arrays.toString(shape) + " needs "
                    + expected + " bytes, got " + data.length);
        }
    }

    public static NpyArray ofUint8(long[] shape, byte[] values) {
        return new NpyArray(NpyDtype.UINT8, shape, values.clone());
    }

    public static NpyArray ofBool(long[] shape, boolean[] values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        return new NpyArray(NpyDtype.BOOL, shape, bytes);
    }

    public static NpyArray ofInt32(long[] shape, int[] values) {
        ByteBuffer buffer = allocate(values.length, NpyDtype.INT32);
        buffer.asIntBuffer().put(values);
        return new NpyArray(NpyDtype.INT32, shape, buffer.array());
    }

    public static NpyArray ofInt64(long[] shape, long[] values) {
        ByteBuffer buffer = allocate(values.length, NpyDtype.INT64);
        buffer.asLongBuffer().put(values);
        return new NpyArray(NpyDtype.INT64, shape, buffer.array());
    }

    public static NpyArray ofFloat32(long[] shape, float[] values) {
        ByteBuffer buffer = allocate(values.length, NpyDtype.FLOAT32);
        buffer.asFloatBuffer().put(values);
        return new NpyArray(NpyDtype.FLOAT32, shape, buffer.array());
    }

    public static NpyArray ofFloat64(long[] shape, double[] values) {
        ByteBuffer buffer = allocate(values.length, NpyDtype.FLOAT64);
        buffer.asDoubleBuffer().put(values);
        return new NpyArray(NpyDtype.FLOAT64, shape, buffer.array());
    }

    private static ByteBuffer allocate(int count, NpyDtype dtype) {
        return ByteBuffer.allocate(Math.multiplyExact(count, dtype.itemSize())).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public NpyHeader header() {
        return new NpyHeader(dtype, shape);
    }

    public long elementCount() {
        return NpyHeader.elementCount(shape);
    }

    /** Length of the first (sample) axis. */
    public long sampleCount() {
        requireSampleAxis();
        return shape[0];
    }

    /** A read-only little-endian view, ready for {@code asFloatBuffer()} and friends. */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Element {@code index} (in C order) as a double, whatever the dtype; UINT8 reads as 0..255. */
    public double getDouble(long index) {
        int offset = offset(index);
        ByteBuffer buffer = buffer();
        return switch (dtype) {
            case UINT8 -> Byte.toUnsignedInt(data[offset]);
            case BOOL -> data[offset] != 0 ? 1 : 0;
            case FLOAT16 -> Fp16Conversions.fp16ToFloat(buffer.getShort(offset));
            case INT32 -> buffer.getInt(offset);
            case INT64 -> buffer.getLong(offset);
            case FLOAT32 -> buffer.getFloat(offset);
            case FLOAT64 -> buffer.getDouble(offset);
        };
    }

    /** Element {@code index} (in C order) of an integer array as a long. */
    public long getLong(long index) {
        if (!dtype.isInteger()) {
            throw new IllegalStateException("getLong needs an integer array, this one is " + dtype);
        }
        int offset = offset(index);
        return switch (dtype) {
            case UINT8 -> Byte.toUnsignedInt(data[offset]);
            case INT32 -> buffer().getInt(offset);
            default -> buffer().getLong(offset); // via double would lose int64 precision above 2^53
        };
    }

    public float[] toFloatArray() {
        requireDtype(NpyDtype.FLOAT32);
        float[] values = new float[data.length / 4];
        buffer().asFloatBuffer().get(values);
        return values;
    }

    public double[] toDoubleArray() {
        requireDtype(NpyDtype.FLOAT64);
        double[] values = new double[data.length / 8];
        buffer().asDoubleBuffer().get(values);
        return values;
    }

    public int[] toIntArray() {
        requireDtype(NpyDtype.INT32);
        int[] values = new int[data.length / 4];
        buffer().asIntBuffer().get(values);
        return values;
    }

    public long[] toLongArray() {
        requireDtype(NpyDtype.INT64);
        long[] values = new long[data.length / 8];
        buffer().asLongBuffer().get(values);
        return values;
    }

    /** The samples at {@code indices} along the first axis, in that order (used to shuffle and split). */
    public NpyArray takeSamples(int[] indices) {
        int sampleBytes = sampleBytes();
        byte[] taken = new byte[Math.multiplyExact(indices.length, sampleBytes)];
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= shape[0]) {
                throw new IndexOutOfBoundsException("sample " + indices[i] + " outside 0.." + (shape[0] - 1));
            }
            System.arraycopy(data, indices[i] * sampleBytes, taken, i * sampleBytes, sampleBytes);
        }
        long[] takenShape = shape.clone();
        takenShape[0] = indices.length;
        return new NpyArray(dtype, takenShape, taken);
    }

    /**
     * The same data with the first (sample) axis moved to {@code axis}, the others keeping their order:
     * a batch {@code [b, 2, 4]} stored sample-first becomes {@code [2, b, 4]} for {@code axis} 1.
     */
    public NpyArray moveFirstAxisTo(int axis) {
        requireSampleAxis();
        if (axis < 0 || axis >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " is outside an array of rank " + shape.length);
        }
        if (axis == 0) {
            return this;
        }
        int samples = Math.toIntExact(shape[0]);
        long[] moved = new long[shape.length];
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            moved[i] = shape[i + 1];
            outer *= shape[i + 1];
        }
        moved[axis] = samples;
        long innerElements = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            moved[i] = shape[i];
            innerElements *= shape[i];
        }
        int inner = Math.toIntExact(innerElements * dtype.itemSize());
        byte[] out = new byte[data.length];
        for (int o = 0; o < outer; o++) {
            for (int s = 0; s < samples; s++) {
                System.arraycopy(data, Math.toIntExact((s * outer + o) * inner), out,
                        Math.toIntExact(((long) o * samples + s) * inner), inner);
            }
        }
        return new NpyArray(dtype, moved, out);
    }

    /** Bytes of one sample: the product of all axes but the first, times the item size. */
    public int sampleBytes() {
        requireSampleAxis();
        return Math.toIntExact(NpyHeader.elementCount(Arrays.copyOfRange(shape, 1, shape.length)) * dtype.itemSize());
    }

    private void requireSampleAxis() {
        if (shape.length == 0) {
            throw new IllegalStateException("a 0-d array has no sample axis");
        }
    }

    private void requireDtype(NpyDtype wanted) {
        if (dtype != wanted) {
            throw new IllegalStateException("array is " + dtype + ", not " + wanted);
        }
    }

    private int offset(long index) {
        if (index < 0 || index >= elementCount()) {
            throw new IndexOutOfBoundsException("element " + index + " outside an array of " + elementCount());
        }
        return Math.toIntExact(index * dtype.itemSize());
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NpyArray that && dtype == that.dtype && Arrays.equals(shape, that.shape)
                && Arrays.equals(data, that.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        String head = HexFormat.of().formatHex(data, 0, Math.min(data.length, 16));
        return "NpyArray[" + dtype + Arrays.toString(shape) + ", " + data.length + " bytes: " + head
                + (data.length > 16 ? "...]" : "]");
    }
}
