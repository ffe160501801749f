package dev.anvil.modelkit.onnx;

import ai.onnxruntime.platform.Fp16Conversions;
import com.google.protobuf.ByteString;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Conversions between ONNX {@code TensorProto}s and Java arrays (ONNX raw data is little-endian). */
public final class Tensors {
    private Tensors() {}

    public static long[] dims(TensorProto t) {
        return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    public static long elementCount(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    public static DataType type(TensorProto t) {
        return DataType.forNumber(t.getDataType());
    }

    public static boolean isFloat(TensorProto t) {
        return t.getDataType() == DataType.FLOAT_VALUE;
    }

    /** The tensor's values as floats; FLOAT, FLOAT16, DOUBLE and the integer types are read. */
    public static float[] toFloats(TensorProto t) {
        int n = Math.toIntExact(elementCount(dims(t)));
        float[] out = new float[n];
        DataType type = type(t);
        if (type == null) {
            throw new InvalidModelException("tensor '" + t.getName() + "' has unknown data type " + t.getDataType());
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new InvalidModelException("tensor '" + t.getName() + "' is external data that was not loaded");
        }
        boolean raw = t.hasRawData();
        ByteBuffer buf = raw ? t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN) : null;
        switch (type) {
            case FLOAT -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? buf.getFloat() : t.getFloatData(i);
                }
            }
            case DOUBLE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) (raw ? buf.getDouble() : t.getDoubleData(i));
                }
            }
            case FLOAT16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Fp16Conversions.fp16ToFloat(raw ? buf.getShort() : (short) t.getInt32Data(i));
                }
            }
            case INT64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? buf.getLong() : t.getInt64Data(i);
                }
            }
            case INT32, INT16, INT8, UINT8, UINT16, BOOL -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? readSmallInt(buf, type) : t.getInt32Data(i);
                }
            }
            default -> throw new InvalidModelException("tensor '" + t.getName() + "' has data type " + type
                    + ", which cannot be read as numbers here");
        }
        return out;
    }

    public static long[] toLongs(TensorProto t) {
        int n = Math.toIntExact(elementCount(dims(t)));
        long[] out = new long[n];
        if (t.getDataType() == DataType.INT64_VALUE) {
            ByteBuffer buf = t.hasRawData() ? t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN) : null;
            for (int i = 0; i < n; i++) {
                out[i] = buf != null ? buf.getLong() : t.getInt64Data(i);
            }
            return out;
        }
        float[] f = toFloats(t);
        for (int i = 0; i < n; i++) {
            out[i] = (long) f[i];
        }
        return out;
    }

    private static float readSmallInt(ByteBuffer buf, DataType type) {
        return switch (type) {
            case INT32 -> buf.getInt();
            case INT16 -> buf.getShort();
            case UINT16 -> buf.getShort() & 0xffff;
            case INT8 -> buf.get();
            case UINT8, BOOL -> buf.get() & 0xff;
            default -> throw new IllegalStateException(type.toString());
        };
    }

    public static TensorProto floats(String name, long[] dims, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        return raw(name, DataType.FLOAT, dims, buf.array());
    }

    public static TensorProto float16s(String name, long[] dims, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putShort(Fp16Conversions.floatToFp16(v));
        }
        return raw(name, DataType.FLOAT16, dims, buf.array());
    }

    public static TensorProto int64s(String name, long[] dims, long[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            buf.putLong(v);
        }
        return raw(name, DataType.INT64, dims, buf.array());
    }

    public static TensorProto int32s(String name, long[] dims, int[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            buf.putInt(v);
        }
        return raw(name, DataType.INT32, dims, buf.array());
    }

    /** 8-bit integers; {@code type} is INT8 or UINT8 and {@code values} hold the bytes as stored. */
    public static TensorProto bytes(String name, DataType type, long[] dims, byte[] values) {
        if (type != DataType.INT8 && type != DataType.UINT8) {
            throw new IllegalArgumentException("8-bit tensors are INT8 or UINT8, not " + type);
        }
        return raw(name, type, dims, values);
    }

    private static TensorProto raw(String name, DataType type, long[] dims, byte[] data) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
        for (long d : dims) {
            t.addDims(d);
        }
        return t.setRawData(ByteString.copyFrom(data)).build();
    }

    /** Bytes the tensor's data takes in a model file. */
    public static long storedBytes(TensorProto t) {
        if (t.hasRawData()) {
            return t.getRawData().size();
        }
        return (long) t.getFloatDataCount() * 4 + (long) t.getInt32DataCount() * 4 + (long) t.getInt64DataCount() * 8
                + (long) t.getDoubleDataCount() * 8;
    }
}
