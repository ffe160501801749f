package dev.anvil.serving;

import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Open Inference Protocol (KServe v2) tensor elements to ONNX Runtime tensors and back: JSON lists
 * read from a streaming parser, little-endian bytes of the binary tensor data extension, and output
 * tensors written as JSON or as binary; outputs that are not tensors (sequences, maps) as JSON values.
 */
final class V2Tensors {
    /** The datatype metadata and responses give an output that is not a tensor: its data are JSON values. */
    static final String JSON = "JSON";
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private V2Tensors() {
    }

    /** A tensor over buffer (direct, native order, positioned at its start). */
    static OnnxTensor tensor(OrtEnvironment env, ByteBuffer buffer, long[] shape, TensorType type) throws OrtException {
        return OnnxTensor.createTensor(env, buffer, shape, type.ort);
    }

    /** Fills buffer (direct, native order) with its capacity's worth of little-endian elements from body. */
    static ByteBuffer fromLittleEndian(ByteBuffer body, int offset, ByteBuffer buffer, TensorType type) {
        buffer.put(body.slice(offset, buffer.capacity())).rewind();
        if (!LITTLE_ENDIAN) {
            swap(buffer, type.bytes);
        }
        return buffer;
    }

    /**
     * Streams the (possibly nested) list under the parser, which is on its START_ARRAY, into buffer:
     * at most capacity elements, each checked against type. Returns how many it wrote.
     */
    static int fill(JsonParser p, ByteBuffer buffer, TensorType type, int capacity, String name, String where)
            throws IOException {
        int written = 0;
        for (int depth = 1; depth > 0; ) {
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_ARRAY) {
                depth++;
            } else if (t == JsonToken.END_ARRAY) {
                depth--;
            } else {
                if (written >= capacity) {
                    throw GatewayException.badRequest(where, "input '" + name + "' has more elements than its shape"
                            + " allows (" + capacity + ")");
                }
                put(p, t, buffer, type, name, where, written);
                written++;
            }
        }
        return written;
    }

    private static void put(JsonParser p, JsonToken t, ByteBuffer buffer, TensorType type, String name, String where,
                            int index) throws IOException {
        switch (type) {
            case FP32 -> buffer.putFloat(number(p, t, type, name, where, index).getFloatValue());
            case FP64 -> buffer.putDouble(number(p, t, type, name, where, index).getDoubleValue());
            case BOOL -> {
                if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                    throw badElement(p, type, name, where, index, "true or false");
                }
                buffer.put((byte) (t == JsonToken.VALUE_TRUE ? 1 : 0));
            }
            default -> {
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        || p.getLongValue() < type.min() || p.getLongValue() > type.max()) {
                    throw badElement(p, type, name, where, index, "an integer in " + type.min() + ".." + type.max());
                }
                long x = p.getLongValue();
                switch (type) {
                    case INT64 -> buffer.putLong(x);
                    case INT32 -> buffer.putInt((int) x);
                    case INT16 -> buffer.putShort((short) x);
                    default -> buffer.put((byte) x);
                }
            }
        }
    }

    private static JsonParser number(JsonParser p, JsonToken t, TensorType type, String name, String where, int index)
            throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
            throw badElement(p, type, name, where, index, "a number");
        }
        return p;
    }

    private static GatewayException badElement(JsonParser p, TensorType type, String name, String where, int index,
                                               String expected) throws IOException {
        return GatewayException.badRequest(where, "input '" + name + "' element " + index + " is " + describe(p)
                + ", expected " + expected + " for " + type.name());
    }

    /** The parser's current token as a person would write it in the request. */
    static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            return "\"" + p.getText() + "\"";
        }
        if (t == JsonToken.START_OBJECT) {
            return "an object";
        }
        if (t == JsonToken.START_ARRAY) {
            return "a list";
        }
        return p.getText();
    }

    /** The element count of a tensor shape. */
    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Writes {name, datatype, shape, parameters: {binary_data_size}}; the bytes go after the header. */
    static int encodeBinaryHeader(JsonGenerator out, String name, OnnxValue value) throws IOException {
        TensorInfo info = tensorInfo(name, value);
        TensorType type = TensorType.of(info.type).orElseThrow(() -> new GatewayException(500, null, "output '" + name
                + "' has type " + info.type + ", which the gateway cannot encode"));
        out.writeStartObject();
        out.writeStringField("name", name);
        out.writeStringField("datatype", type.name());
        writeShape(out, info);
        int size = (int) (count(info.getShape()) * type.bytes);
        out.writeObjectFieldStart("parameters");
        out.writeNumberField("binary_data_size", size);
        out.writeEndObject();
        out.writeEndObject();
        return size;
    }

    /** Writes the tensor's elements as little-endian bytes (the binary tensor data extension). */
    static void writeBinary(OutputStream out, OnnxValue value) throws IOException {
        OnnxTensor tensor = (OnnxTensor) value;
        ByteBuffer bytes = tensor.getByteBuffer();
        if (!LITTLE_ENDIAN) {
            swap(bytes, TensorType.of(tensor.getInfo().type).orElseThrow().bytes);
        }
        if (bytes.hasArray()) {
            out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
        } else {
            byte[] copy = new byte[bytes.remaining()];
            bytes.get(copy);
            out.write(copy);
        }
    }

    private static TensorInfo tensorInfo(String name, OnnxValue value) {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new GatewayException(500, null, "output '" + name + "' is not a tensor; the gateway serves tensors only");
        }
        return tensor.getInfo();
    }

    private static void writeShape(JsonGenerator out, TensorInfo info) throws IOException {
        out.writeArrayFieldStart("shape");
        for (long d : info.getShape()) {
            out.writeNumber(d);
        }
        out.writeEndArray();
    }

    /** Reverses the byte order of each width-byte element in place (big-endian platforms only). */
    private static void swap(ByteBuffer buffer, int width) {
        for (int i = 0; i + width <= buffer.limit(); i += width) {
            for (int a = i, b = i + width - 1; a < b; a++, b--) {
                byte x = buffer.get(a);
                buffer.put(a, buffer.get(b));
                buffer.put(b, x);
            }
        }
    }

    /** Writes one output tensor as {name, datatype, shape, data} with data flat in row-major order. */
    static void encode(JsonGenerator out, String name, OnnxValue value) throws IOException, OrtException {
        tensorInfo(name, value);
        out.writeStartObject();
        out.writeStringField("name", name);
        writeTensor(out, name, (OnnxTensor) value);
        out.writeEndObject();
    }

    /**
     * Writes an output that is not a tensor as {name, datatype: {@value #JSON}, shape, data}: a sequence with
     * one element of data per item (shape [n]), a map alone as the one element (shape []). A map is a JSON
     * object from key (int64 keys as decimal strings) to value, in key order; a tensor in a sequence is
     * {datatype, shape, data} like an output tensor.
     */
    static void encodeJson(JsonGenerator out, String name, OnnxValue value) throws IOException, OrtException {
        out.writeStartObject();
        out.writeStringField("name", name);
        out.writeStringField("datatype", JSON);
        if (value instanceof OnnxSequence sequence) {
            // the items are values of their own that the sequence does not close
            List<? extends OnnxValue> items = sequence.getValue();
            try {
                out.writeArrayFieldStart("shape");
                out.writeNumber(items.size());
                out.writeEndArray();
                out.writeArrayFieldStart("data");
                for (OnnxValue item : items) {
                    writeItem(out, name, item);
                }
                out.writeEndArray();
            } finally {
                OnnxValue.close(items);
            }
        } else if (value instanceof OnnxMap map) {
            out.writeArrayFieldStart("shape");
            out.writeEndArray();
            out.writeArrayFieldStart("data");
            writeMap(out, map);
            out.writeEndArray();
        } else {
            throw new GatewayException(500, null, "output '" + name + "' is a " + value.getType()
                    + " value, which the gateway cannot encode");
        }
        out.writeEndObject();
    }

    private static void writeItem(JsonGenerator out, String name, OnnxValue item) throws IOException, OrtException {
        if (item instanceof OnnxMap map) {
            writeMap(out, map);
        } else if (item instanceof OnnxTensor tensor) {
            out.writeStartObject();
            writeTensor(out, name, tensor);
            out.writeEndObject();
        } else {
            throw new GatewayException(500, null, "output '" + name + "' holds a " + item.getType()
                    + " value, which the gateway cannot encode");
        }
    }

    private static void writeMap(JsonGenerator out, OnnxMap map) throws IOException, OrtException {
        // ONNX Runtime hands the map over as a HashMap; keys of one map share a type, so they sort
        Map<Object, Object> sorted = new TreeMap<>(map.getValue());
        out.writeStartObject();
        for (Map.Entry<Object, Object> entry : sorted.entrySet()) {
            out.writeFieldName(String.valueOf(entry.getKey()));
            Object v = entry.getValue();
            if (v instanceof Float f) {
                out.writeNumber(f);
            } else if (v instanceof Double d) {
                out.writeNumber(d);
            } else if (v instanceof Long l) {
                out.writeNumber(l);
            } else if (v instanceof Boolean b) {
                out.writeBoolean(b);
            } else {
                out.writeString(String.valueOf(v));
            }
        }
        out.writeEndObject();
    }

    /** The fields datatype, shape and data of a tensor, data flat in row-major order. */
    private static void writeTensor(JsonGenerator out, String name, OnnxTensor tensor) throws IOException, OrtException {
        TensorInfo info = tensor.getInfo();
        out.writeStringField("datatype", TensorType.v2Name(info.type));
        writeShape(out, info);
        out.writeArrayFieldStart("data");
        switch (info.type) {
            case FLOAT -> {
                FloatBuffer b = tensor.getFloatBuffer();
                while (b.hasRemaining()) {
                    out.writeNumber(b.get());
                }
            }
            case DOUBLE -> {
                DoubleBuffer b = tensor.getDoubleBuffer();
                while (b.hasRemaining()) {
                    out.writeNumber(b.get());
                }
            }
            case INT64 -> {
                LongBuffer b = tensor.getLongBuffer();
                while (b.hasRemaining()) {
                    out.writeNumber(b.get());
                }
            }
            case INT32 -> {
                IntBuffer b = tensor.getIntBuffer();
                while (b.hasRemaining()) {
                    out.writeNumber(b.get());
                }
            }
            case INT16 -> {
                ShortBuffer b = tensor.getShortBuffer();
                while (b.hasRemaining()) {
                    out.writeNumber(b.get());
                }
            }
            case INT8 -> {
                ByteBuffer b = tensor.getByteBuffer();
                while (b.hasRemaining()) {
                    out.writeNumber(b.get());
                }
            }
            case UINT8 -> {
                ByteBuffer b = tensor.getByteBuffer();
                while (b.hasRemaining()) {
                    out.writeNumber(b.get() & 0xff);
                }
            }
            case BOOL -> {
                ByteBuffer b = tensor.getByteBuffer();
                while (b.hasRemaining()) {
                    out.writeBoolean(b.get() != 0);
                }
            }
            default -> throw new GatewayException(500, null, "output '" + name + "' has type " + info.type
                    + ", which the gateway cannot encode as JSON");
        }
        out.writeEndArray();
    }
}
