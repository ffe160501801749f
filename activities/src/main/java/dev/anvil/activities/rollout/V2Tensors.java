package dev.anvil.activities.rollout;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Open Inference Protocol (KServe v2) JSON tensors to ONNX Runtime tensors and back. Every input is
 * checked against the model's signature first (name, datatype, shape, element count) so that what
 * ONNX Runtime then rejects is the model's fault, not the caller's.
 */
final class V2Tensors {
    private V2Tensors() {
    }

    /** The request's inputs as tensors, keyed by input name; the caller closes them. */
    static Map<String, OnnxTensor> decode(OrtEnvironment env, LoadedModel model, JsonNode request) throws OrtException {
        JsonNode inputs = request.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw GatewayException.badRequest("inputs", "the request needs \"inputs\": a list of"
                    + " {name, datatype, shape, data}; the model takes " + model.inputs().keySet());
        }
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (int i = 0; i < inputs.size(); i++) {
                String where = "inputs[" + i + "]";
                JsonNode input = inputs.get(i);
                String name = text(input, "name", where);
                TensorInfo info = model.inputs().get(name);
                if (info == null) {
                    throw GatewayException.badRequest(where + ".name", "unknown input '" + name
                            + "', expected one of " + model.inputs().keySet());
                }
                if (tensors.containsKey(name)) {
                    throw GatewayException.badRequest(where + ".name", "input '" + name + "' is given twice");
                }
                tensors.put(name, tensor(env, info, input, name, where));
            }
            for (String required : model.inputs().keySet()) {
                if (!tensors.containsKey(required)) {
                    throw GatewayException.badRequest("inputs", "input '" + required + "' is missing; the model takes "
                            + model.inputs().keySet());
                }
            }
            return tensors;
        } catch (RuntimeException | OrtException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
    }

    /** The outputs the caller asked for (all when it named none), checked against the model. */
    static java.util.Set<String> requestedOutputs(LoadedModel model, JsonNode request) {
        JsonNode outputs = request.get("outputs");
        if (outputs == null || outputs.isNull() || outputs.isEmpty()) {
            return model.outputs().keySet();
        }
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        for (int i = 0; i < outputs.size(); i++) {
            String name = text(outputs.get(i), "name", "outputs[" + i + "]");
            if (!model.outputs().containsKey(name)) {
                throw GatewayException.badRequest("outputs[" + i + "].name", "unknown output '" + name
                        + "', expected one of " + model.outputs().keySet());
            }
            names.add(name);
        }
        return names;
    }

    /** Writes one output tensor as {name, datatype, shape, data} with data flat in row-major order. */
    static void encode(JsonGenerator out, String name, OnnxValue value) throws IOException, OrtException {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new GatewayException(500, null, "output '" + name + "' is not a tensor; the gateway serves tensors only");
        }
        TensorInfo info = tensor.getInfo();
        out.writeStartObject();
        out.writeStringField("name", name);
        out.writeStringField("datatype", TensorType.v2Name(info.type));
        out.writeArrayFieldStart("shape");
        for (long d : info.getShape()) {
            out.writeNumber(d);
        }
        out.writeEndArray();
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
        out.writeEndObject();
    }

    private static OnnxTensor tensor(OrtEnvironment env, TensorInfo info, JsonNode input, String name, String where)
            throws OrtException {
        String datatype = text(input, "datatype", where);
        TensorType expected = TensorType.of(info.type).orElseThrow(() -> GatewayException.badRequest(where,
                "input '" + name + "' has type " + TensorType.v2Name(info.type) + ", which the gateway cannot serve"));
        if (!expected.name().equals(datatype)) {
            throw GatewayException.badRequest(where + ".datatype", "input '" + name + "' has datatype " + datatype
                    + ", the model expects " + expected.name());
        }
        long[] shape = shape(input.get("shape"), where + ".shape", name);
        long[] modelShape = info.getShape();
        boolean fits = shape.length == modelShape.length;
        for (int d = 0; fits && d < shape.length; d++) {
            fits = modelShape[d] < 0 || modelShape[d] == shape[d];
        }
        if (!fits) {
            throw GatewayException.badRequest(where + ".shape", "input '" + name + "' has shape "
                    + Arrays.toString(shape) + ", the model expects " + Arrays.toString(modelShape) + " (-1: any size)");
        }
        long count = 1;
        for (long d : shape) {
            count = Math.multiplyExact(count, d);
        }
        if (count > Integer.MAX_VALUE / expected.bytes) {
            throw GatewayException.badRequest(where + ".shape", "input '" + name + "' is too large: " + count + " elements");
        }
        JsonNode data = input.get("data");
        if (data == null || !data.isArray()) {
            throw GatewayException.badRequest(where + ".data", "input '" + name + "' needs \"data\": its "
                    + count + " elements as a flat or nested list");
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) count * expected.bytes).order(ByteOrder.nativeOrder());
        int written = fill(buffer, data, expected, (int) count, 0, name, where + ".data");
        if (written != count) {
            throw GatewayException.badRequest(where + ".data", "input '" + name + "' has " + written
                    + " elements, its shape " + Arrays.toString(shape) + " needs " + count);
        }
        buffer.rewind();
        return switch (expected) {
            case FP32 -> OnnxTensor.createTensor(env, buffer.asFloatBuffer(), shape);
            case FP64 -> OnnxTensor.createTensor(env, buffer.asDoubleBuffer(), shape);
            case INT64 -> OnnxTensor.createTensor(env, buffer.asLongBuffer(), shape);
            case INT32 -> OnnxTensor.createTensor(env, buffer.asIntBuffer(), shape);
            case INT16 -> OnnxTensor.createTensor(env, buffer.asShortBuffer(), shape);
            case INT8, UINT8, BOOL -> OnnxTensor.createTensor(env, buffer, shape, expected.ort);
        };
    }

    /** Writes the (possibly nested) list's leaves into buffer; returns how many it wrote. */
    private static int fill(ByteBuffer buffer, JsonNode list, TensorType type, int capacity, int written, String name,
                            String where) {
        for (JsonNode v : list) {
            if (v.isArray()) {
                written = fill(buffer, v, type, capacity, written, name, where);
                continue;
            }
            if (written >= capacity) {
                throw GatewayException.badRequest(where, "input '" + name + "' has more elements than its shape allows ("
                        + capacity + ")");
            }
            put(buffer, v, type, name, where, written);
            written++;
        }
        return written;
    }

    private static void put(ByteBuffer buffer, JsonNode v, TensorType type, String name, String where, int index) {
        if (type == TensorType.BOOL) {
            if (!v.isBoolean()) {
                throw badElement(v, type, name, where, index, "true or false");
            }
            buffer.put((byte) (v.booleanValue() ? 1 : 0));
            return;
        }
        if (!v.isNumber()) {
            throw badElement(v, type, name, where, index, "a number");
        }
        if (type == TensorType.FP32) {
            buffer.putFloat(v.floatValue());
        } else if (type == TensorType.FP64) {
            buffer.putDouble(v.doubleValue());
        } else {
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < type.min() || v.longValue() > type.max()) {
                throw badElement(v, type, name, where, index, "an integer in " + type.min() + ".." + type.max());
            }
            long x = v.longValue();
            switch (type) {
                case INT64 -> buffer.putLong(x);
                case INT32 -> buffer.putInt((int) x);
                case INT16 -> buffer.putShort((short) x);
                default -> buffer.put((byte) x);
            }
        }
    }

    private static GatewayException badElement(JsonNode v, TensorType type, String name, String where, int index,
                                               String expected) {
        return GatewayException.badRequest(where, "input '" + name + "' element " + index + " is " + v
                + ", expected " + expected + " for " + type.name());
    }

    private static long[] shape(JsonNode shape, String where, String name) {
        if (shape == null || !shape.isArray()) {
            throw GatewayException.badRequest(where, "input '" + name + "' needs \"shape\": a list of dimension sizes");
        }
        long[] dims = new long[shape.size()];
        for (int d = 0; d < dims.length; d++) {
            JsonNode dim = shape.get(d);
            if (!dim.isIntegralNumber() || dim.longValue() < 0) {
                throw GatewayException.badRequest(where, "input '" + name + "' shape " + shape
                        + " has " + dim + " at position " + d + "; sizes are non-negative integers");
            }
            dims[d] = dim.longValue();
        }
        return dims;
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || !value.isTextual()) {
            throw GatewayException.badRequest(where + "." + field, where + " needs \"" + field + "\" (a string)");
        }
        return value.textValue();
    }
}
