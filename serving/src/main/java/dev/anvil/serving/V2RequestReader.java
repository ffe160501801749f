package dev.anvil.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One class on purpose: a request is read in one streaming pass, and every step of it (the inputs,
 * their deferred {@code data}, the binary section) shares the same state: the body, the tensors
 * built so far (closed together on any error) and the offset into the binary data. Split up, that
 * state would have to be handed from class to class.
 *
 * <p>Reads an Open Inference Protocol (KServe v2) request with a streaming parser, straight into the
 * model's input tensors: JSON {@code data} lists go element by element into a direct buffer (no tree
 * of number nodes), and with the binary tensor data extension an input's bytes are copied from the
 * body after the JSON header. Every input is checked against the model's signature first (name,
 * datatype, shape, element count or byte size), so what ONNX Runtime then rejects is the model's
 * fault, not the caller's.
 *
 * <p>An input's {@code data} is streamed when its name, datatype and shape came before it (the order
 * clients write); otherwise the parser skips over it, noting where it lies in the body, and reads it
 * from there once the input's object has ended.
 */
final class V2RequestReader {
    /** The binary tensor data extension's header: the JSON header's length in bytes; the rest is tensor data. */
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";
    private static final String SHAPE_OF_REQUEST = " {\"inputs\": [{\"name\", \"datatype\", \"shape\", \"data\"}]}";
    // FastDoubleParser (bundled with jackson-core) instead of Double.parseDouble: decimals are most of a JSON tensor
    private static final JsonFactory JSON = JsonFactory.builder().enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();

    private final OrtEnvironment env;
    private final LoadedModel model;
    // the request body (a direct buffer its caller frees), from 0 to its limit
    private final ByteBuffer body;
    private final int headerLength;
    private final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
    // the tensors' native memory, freed with them when the request ends (never left to the garbage collector)
    private final List<ByteBuffer> buffers = new ArrayList<>();
    // where the next binary input's bytes start, and where the binary section ends
    private int binaryOffset;

    private V2RequestReader(OrtEnvironment env, LoadedModel model, ByteBuffer body, int headerLength) {
        this.env = env;
        this.model = model;
        this.body = body;
        this.headerLength = headerLength;
        this.binaryOffset = headerLength;
    }

    /**
     * Decodes a request for the model.
     *
     * @param headerLength the {@value #HEADER_LENGTH} header's value (the JSON header's size, binary
     *                     tensor data after it), or -1 when the whole body is JSON
     */
    static V2Request read(OrtEnvironment env, LoadedModel model, ByteBuffer body, int headerLength) {
        if (headerLength > body.limit()) {
            throw GatewayException.badRequest(HEADER_LENGTH, HEADER_LENGTH + " is " + headerLength
                    + " but the body has only " + body.limit() + " bytes; it must be the size of the JSON header"
                    + " that starts the body");
        }
        return new V2RequestReader(env, model, body, headerLength).read();
    }

    private V2Request read() {
        int jsonLength = headerLength < 0 ? body.limit() : headerLength;
        try (JsonParser p = JSON.createParser(bytes(0, jsonLength))) {
            V2Request request = request(p);
            if (p.nextToken() != null) {
                throw GatewayException.badRequest(null, headerLength < 0
                        ? "the request body has more after its JSON object, at byte " + p.currentTokenLocation().getByteOffset()
                        : "the JSON header has more after its object, at byte " + p.currentTokenLocation().getByteOffset()
                        + "; is " + HEADER_LENGTH + " (" + headerLength + ") the header's size?");
            }
            if (headerLength >= 0 && binaryOffset != body.limit()) {
                throw GatewayException.badRequest(HEADER_LENGTH, "the body has " + (body.limit() - headerLength)
                        + " bytes after the " + headerLength + "-byte JSON header, but the inputs' binary_data_size add"
                        + " up to " + (binaryOffset - headerLength));
            }
            return request;
        } catch (StreamConstraintsException e) {
            close();
            throw GatewayException.badRequest(null, "the request body is too deeply nested or has too long a number: "
                    + e.getOriginalMessage());
        } catch (JsonParseException e) {
            close();
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr();
            throw GatewayException.badRequest(null, (headerLength < 0 ? "the request body" : "the JSON header")
                    + " is not valid JSON" + where + ": " + e.getOriginalMessage() + (headerLength < 0 ? ""
                    : " (is " + HEADER_LENGTH + ", " + headerLength + ", the size of the JSON header alone?)"));
        } catch (IOException e) {
            close();
            throw GatewayException.badRequest(null, "the request body could not be read: " + e.getMessage());
        } catch (OrtException e) {
            close();
            throw new GatewayException(500, null, "could not build input tensors: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void close() {
        V2Request.free(tensors.values(), buffers);
    }

    /** length bytes of the body from offset, as a stream for the parser (which reads it through its own small buffer). */
    private InputStream bytes(int offset, int length) {
        ByteBuffer slice = body.slice(offset, length);
        return new InputStream() {
            @Override
            public int read() {
                return slice.hasRemaining() ? slice.get() & 0xff : -1;
            }

            @Override
            public int read(byte[] into, int off, int len) {
                if (!slice.hasRemaining()) {
                    return len == 0 ? 0 : -1;
                }
                int n = Math.min(len, slice.remaining());
                slice.get(into, off, n);
                return n;
            }
        };
    }

    private V2Request request(JsonParser p) throws IOException, OrtException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw GatewayException.badRequest(null, (headerLength < 0 ? "the request body" : "the JSON header")
                    + " must be a JSON object" + SHAPE_OF_REQUEST);
        }
        String id = null;
        boolean sawInputs = false;
        boolean binaryOutput = false;
        Map<String, Boolean> outputs = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "id" -> {
                    if (value == JsonToken.VALUE_STRING) {
                        id = p.getText();
                    }
                    p.skipChildren();
                }
                case "inputs" -> {
                    inputs(p);
                    sawInputs = true;
                }
                case "outputs" -> outputs = outputs(p);
                case "parameters" -> binaryOutput = flag(p, "binary_data_output", "parameters");
                default -> p.skipChildren();
            }
        }
        if (!sawInputs || tensors.isEmpty()) {
            throw noInputs();
        }
        for (String required : model.inputs().keySet()) {
            if (!tensors.containsKey(required)) {
                throw GatewayException.badRequest("inputs", "input '" + required + "' is missing; the model takes "
                        + model.inputs().keySet());
            }
        }
        Set<String> names = outputs == null || outputs.isEmpty() ? model.outputs().keySet() : outputs.keySet();
        Set<String> binary = new LinkedHashSet<>();
        for (String name : names) {
            Boolean asked = outputs == null ? null : outputs.get(name);
            if (asked == null ? binaryOutput : asked) {
                binary.add(name);
            }
        }
        return new V2Request(id, tensors, List.copyOf(buffers), names, binary);
    }

    private GatewayException noInputs() {
        return GatewayException.badRequest("inputs", "the request needs \"inputs\": a list of"
                + " {name, datatype, shape, data}; the model takes " + model.inputs().keySet());
    }

    private void inputs(JsonParser p) throws IOException, OrtException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw noInputs();
        }
        for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
            String where = "inputs[" + i + "]";
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw GatewayException.badRequest(where, where + " must be an object {name, datatype, shape, data}");
            }
            input(p, where);
        }
    }

    /** One input object, parser on its START_OBJECT; leaves the parser on its END_OBJECT. */
    private void input(JsonParser p, String where) throws IOException, OrtException {
        Input in = new Input(where);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "name" -> in.name = text(p, value, where, "name");
                case "datatype" -> in.datatype = text(p, value, where, "datatype");
                case "shape" -> in.shape = shape(p, where + ".shape");
                case "parameters" -> in.binarySize = binarySize(p, where);
                case "data" -> {
                    in.hasData = true;
                    if (in.name != null && in.datatype != null && in.shape != null && in.binarySize < 0) {
                        in.check();
                        in.tensorFromJson(p);
                    } else {
                        // remember where the value lies and skip it (tokens only, no number conversion)
                        in.dataStart = (int) p.currentTokenLocation().getByteOffset();
                        p.skipChildren();
                        in.dataEnd = (int) p.currentTokenLocation().getByteOffset() + 1;
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (in.hasData && in.binarySize >= 0) {
            in.check();
            throw GatewayException.badRequest(where + ".parameters.binary_data_size", "input '" + in.name
                    + "' has both \"data\" and parameters.binary_data_size; send its elements one way only");
        }
        if (in.tensor != null) {
            return;
        }
        in.check();
        if (in.dataStart >= 0) {
            try (JsonParser data = JSON.createParser(bytes(in.dataStart, in.dataEnd - in.dataStart))) {
                data.nextToken();
                in.tensorFromJson(data);
            }
        } else if (in.binarySize >= 0) {
            in.tensorFromBinary();
        } else {
            throw GatewayException.badRequest(where + ".data", "input '" + in.name + "' needs \"data\": its "
                    + in.count + " elements as a flat or nested list"
                    + (headerLength < 0 ? "" : ", or parameters.binary_data_size for bytes after the JSON header"));
        }
    }

    /** An input being read: its fields as they arrive, then its tensor. */
    private final class Input {
        final String where;
        String name;
        String datatype;
        long[] shape;
        long binarySize = -1;
        boolean hasData;
        // where data lies in the body when it came before name, datatype or shape: read once they are known
        int dataStart = -1;
        int dataEnd;
        TensorType type;
        int count;
        OnnxTensor tensor;

        Input(String where) {
            this.where = where;
        }

        /** Name, datatype and shape against the model, in that order; sets type and count. */
        void check() {
            if (type != null) {
                return;
            }
            if (name == null) {
                throw GatewayException.badRequest(where + ".name", where + " needs \"name\" (a string)");
            }
            TensorInfo info = model.inputs().get(name);
            if (info == null) {
                throw GatewayException.badRequest(where + ".name", "unknown input '" + name
                        + "', expected one of " + model.inputs().keySet());
            }
            if (tensors.containsKey(name)) {
                throw GatewayException.badRequest(where + ".name", "input '" + name + "' is given twice");
            }
            if (datatype == null) {
                throw GatewayException.badRequest(where + ".datatype", where + " needs \"datatype\" (a string)");
            }
            TensorType expected = TensorType.of(info.type).orElseThrow(() -> GatewayException.badRequest(where,
                    "input '" + name + "' has type " + TensorType.v2Name(info.type) + ", which the gateway cannot serve"));
            if (!expected.name().equals(datatype)) {
                throw GatewayException.badRequest(where + ".datatype", "input '" + name + "' has datatype " + datatype
                        + ", the model expects " + expected.name());
            }
            if (shape == null) {
                throw GatewayException.badRequest(where + ".shape", "input '" + name
                        + "' needs \"shape\": a list of dimension sizes");
            }
            long[] modelShape = info.getShape();
            boolean fits = shape.length == modelShape.length;
            for (int d = 0; fits && d < shape.length; d++) {
                fits = modelShape[d] < 0 || modelShape[d] == shape[d];
            }
            if (!fits) {
                throw GatewayException.badRequest(where + ".shape", "input '" + name + "' has shape "
                        + Arrays.toString(shape) + ", the model expects " + Arrays.toString(modelShape) + " (-1: any size)");
            }
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            if (n > Integer.MAX_VALUE / expected.bytes) {
                throw GatewayException.badRequest(where + ".shape", "input '" + name + "' is too large: " + n + " elements");
            }
            type = expected;
            count = (int) n;
        }

        void tensorFromJson(JsonParser p) throws IOException, OrtException {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                throw GatewayException.badRequest(where + ".data", "input '" + name + "' needs \"data\": its "
                        + count + " elements as a flat or nested list");
            }
            ByteBuffer buffer = DirectBuffers.allocate(count * type.bytes);
            buffers.add(buffer);
            int written = V2Tensors.fill(p, buffer, type, count, name, where + ".data");
            if (written != count) {
                throw GatewayException.badRequest(where + ".data", "input '" + name + "' has " + written
                        + " elements, its shape " + Arrays.toString(shape) + " needs " + count);
            }
            tensor = V2Tensors.tensor(env, buffer.rewind(), shape, type);
            // owned by the request from here: a later error closes it with the others
            tensors.put(name, tensor);
        }

        void tensorFromBinary() throws OrtException {
            String field = where + ".parameters.binary_data_size";
            if (headerLength < 0) {
                throw GatewayException.badRequest(field, "input '" + name + "' has parameters.binary_data_size but"
                        + " the request has no " + HEADER_LENGTH + " header; send the JSON header's size in it, or"
                        + " the elements as \"data\"");
            }
            long needed = (long) count * type.bytes;
            if (binarySize != needed) {
                throw GatewayException.badRequest(field, "input '" + name + "' has binary_data_size " + binarySize
                        + ", its shape " + Arrays.toString(shape) + " of " + type.name() + " needs " + needed + " bytes");
            }
            if (needed > body.limit() - binaryOffset) {
                throw GatewayException.badRequest(field, "input '" + name + "' needs " + needed + " bytes of binary"
                        + " data but only " + (body.limit() - binaryOffset) + " are left in the body after the JSON"
                        + " header (" + HEADER_LENGTH + ": " + headerLength + ") and the inputs before it");
            }
            ByteBuffer buffer = DirectBuffers.allocate((int) needed);
            buffers.add(buffer);
            V2Tensors.fromLittleEndian(body, binaryOffset, buffer, type);
            binaryOffset += (int) needed;
            tensor = V2Tensors.tensor(env, buffer, shape, type);
            tensors.put(name, tensor);
        }
    }

    /** The outputs the caller asked for, with whether each should be binary (null: as the request says). */
    private Map<String, Boolean> outputs(JsonParser p) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw GatewayException.badRequest("outputs", "\"outputs\" must be a list of {name}; the model has "
                    + model.outputs().keySet());
        }
        Map<String, Boolean> names = new LinkedHashMap<>();
        for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
            String where = "outputs[" + i + "]";
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw GatewayException.badRequest(where + ".name", where + " needs \"name\" (a string)");
            }
            String name = null;
            Boolean binary = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "name" -> name = text(p, value, where, "name");
                    case "parameters" -> binary = optionalFlag(p, "binary_data", where + ".parameters");
                    default -> p.skipChildren();
                }
            }
            if (name == null) {
                throw GatewayException.badRequest(where + ".name", where + " needs \"name\" (a string)");
            }
            if (!model.outputs().containsKey(name)) {
                throw GatewayException.badRequest(where + ".name", "unknown output '" + name
                        + "', expected one of " + model.outputs().keySet());
            }
            names.put(name, binary);
        }
        return names;
    }

    /** An input's parameters; returns its binary_data_size, or -1 when it has none. */
    private static long binarySize(JsonParser p, String where) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            p.skipChildren();
            return -1;
        }
        long size = -1;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("binary_data_size")) {
                if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        || p.getLongValue() < 0) {
                    throw GatewayException.badRequest(where + ".parameters.binary_data_size", where
                            + ".parameters.binary_data_size is " + p.getText() + "; it must be the input's size in bytes");
                }
                size = p.getLongValue();
            } else {
                p.skipChildren();
            }
        }
        return size;
    }

    private static boolean flag(JsonParser p, String name, String where) throws IOException {
        return Boolean.TRUE.equals(optionalFlag(p, name, where));
    }

    /** A boolean member of a parameters object: null when absent. */
    private static Boolean optionalFlag(JsonParser p, String name, String where) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            p.skipChildren();
            return null;
        }
        Boolean flag = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals(name)) {
                if (value != JsonToken.VALUE_TRUE && value != JsonToken.VALUE_FALSE) {
                    throw GatewayException.badRequest(where + "." + name, where + "." + name + " is " + p.getText()
                            + "; it must be true or false");
                }
                flag = value == JsonToken.VALUE_TRUE;
            } else {
                p.skipChildren();
            }
        }
        return flag;
    }

    private static long[] shape(JsonParser p, String where) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            p.skipChildren();
            throw GatewayException.badRequest(where, where + " must be a list of dimension sizes");
        }
        long[] dims = new long[8];
        int n = 0;
        for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; n++) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                throw GatewayException.badRequest(where, where + " has " + V2Tensors.describe(p)
                        + " at position " + n + "; sizes are non-negative integers");
            }
            if (n == dims.length) {
                dims = Arrays.copyOf(dims, n * 2);
            }
            dims[n] = p.getLongValue();
        }
        return Arrays.copyOf(dims, n);
    }

    private static String text(JsonParser p, JsonToken value, String where, String field) throws IOException {
        if (value != JsonToken.VALUE_STRING) {
            throw GatewayException.badRequest(where + "." + field, where + " needs \"" + field + "\" (a string)");
        }
        return p.getText();
    }
}
