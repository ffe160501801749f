package dev.anvil.modelkit.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of a NumPy {@code .npy} file (format versions 1.0 and 2.0): magic {@code \x93NUMPY}, version,
 * header length, then a Python dict literal such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (10, 1, 28, 28), }} padded with spaces and a
 * newline so the data starts at a multiple of 64 bytes.
 */
public record NpyHeader(NpyDtype dtype, long[] shape) {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy's own safety limit: a longer header means a corrupt file, not a real array. */
    public static final int MAX_HEADER_BYTES = 10_000;
    static final int ALIGNMENT = 64;

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    public NpyHeader {
        shape = shape.clone();
        elementCount(shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return elementCount(shape);
    }

    public long dataBytes() {
        return Math.multiplyExact(elementCount(), (long) dtype.itemSize());
    }

    static long elementCount(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            if (dim < 0) {
                throw new DatasetFormatException("npy shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            try {
                count = Math.multiplyExact(count, dim);
            } catch (ArithmeticException e) {
                throw new DatasetFormatException("npy shape " + Arrays.toString(shape) + " is too large to address");
            }
        }
        return count;
    }

    /** Reads the header and leaves the stream at the first data byte. */
    public static NpyHeader read(InputStream in) throws IOException {
        byte[] magic = in.readNBytes(MAGIC.length);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new DatasetFormatException("not an npy file: it does not start with the magic \\x93NUMPY"
                    + " (found " + hex(magic) + "); save arrays with numpy.save");
        }
        int major = readByte(in);
        int minor = readByte(in);
        int lengthBytes = switch (major) {
            case 1 -> 2;
            case 2 -> 4;
            default -> throw new DatasetFormatException("unsupported npy format version " + major + "." + minor
                    + ", expected 1.0 or 2.0");
        };
        byte[] lengthField = readExactly(in, lengthBytes, "npy header length");
        ByteBuffer lengthBuffer = ByteBuffer.wrap(lengthField).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthBytes == 2 ? Short.toUnsignedInt(lengthBuffer.getShort())
                : Integer.toUnsignedLong(lengthBuffer.getInt());
        if (headerLength > MAX_HEADER_BYTES) {
            throw new DatasetFormatException("npy header is " + headerLength + " bytes, more than the "
                    + MAX_HEADER_BYTES + " allowed; the file is corrupt or not an npy array");
        }
        String text = new String(readExactly(in, (int) headerLength, "npy header"), StandardCharsets.ISO_8859_1);
        return parse(text);
    }

    static NpyHeader parse(String text) {
        Matcher fortran = FORTRAN.matcher(text);
        if (!fortran.find()) {
            throw new DatasetFormatException("npy header has no 'fortran_order': " + text.strip());
        }
        if (fortran.group(1).equals("True")) {
            throw new DatasetFormatException("fortran_order True (column-major) npy arrays are not supported;"
                    + " save a C-ordered copy with numpy.ascontiguousarray(arr)");
        }
        Matcher descr = DESCR.matcher(text);
        if (!descr.find()) {
            throw new DatasetFormatException("unsupported npy descr in header " + text.strip()
                    + " (structured dtypes are not supported), expected one of " + NpyDtype.supported());
        }
        NpyDtype dtype = NpyDtype.fromDescr(descr.group(1));
        Matcher shape = SHAPE.matcher(text);
        if (!shape.find()) {
            throw new DatasetFormatException("npy header has no 'shape' tuple: " + text.strip());
        }
        return new NpyHeader(dtype, parseShape(shape.group(1)));
    }

    private static long[] parseShape(String tuple) {
        List<Long> dims = new ArrayList<>();
        for (String part : tuple.split(",")) {
            String dim = part.strip();
            if (dim.endsWith("L")) {
                dim = dim.substring(0, dim.length() - 1); // Python 2 longs
            }
            if (dim.isEmpty()) {
                continue;
            }
            try {
                dims.add(Long.parseLong(dim));
            } catch (NumberFormatException e) {
                throw new DatasetFormatException("npy shape (" + tuple + ") has a dimension that is not an integer: '"
                        + dim + "'");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /** Writes magic, version 1.0 and the padded header dict. */
    public void write(OutputStream out) throws IOException {
        String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': " + shapeTuple() + ", }";
        int preamble = MAGIC.length + 2 + 2;
        int unpadded = preamble + dict.length() + 1;
        int padding = (ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT;
        int headerLength = dict.length() + padding + 1;
        if (headerLength > MAX_HEADER_BYTES) {
            throw new DatasetFormatException("npy header for shape " + Arrays.toString(shape) + " is "
                    + headerLength + " bytes, more than the " + MAX_HEADER_BYTES + " allowed");
        }
        ByteBuffer buffer = ByteBuffer.allocate(preamble + headerLength).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) headerLength);
        buffer.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        buffer.put(" ".repeat(padding).getBytes(StandardCharsets.ISO_8859_1)).put((byte) '\n');
        out.write(buffer.array());
    }

    private String shapeTuple() {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder tuple = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            tuple.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return tuple.append(')').toString();
    }

    private static int readByte(InputStream in) throws IOException {
        int value = in.read();
        if (value < 0) {
            throw new DatasetFormatException("npy file ends inside its header");
        }
        return value;
    }

    private static byte[] readExactly(InputStream in, int length, String what) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
            throw new DatasetFormatException("npy file ends inside the " + what + ": expected " + length
                    + " bytes, found " + bytes.length);
        }
        return bytes;
    }

    private static String hex(byte[] bytes) {
        StringBuilder text = new StringBuilder();
        for (byte b : bytes) {
            text.append(String.format("%02x", b));
        }
        return text.length() == 0 ? "nothing" : text.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NpyHeader that && dtype == that.dtype && Arrays.equals(shape, that.shape);
    }

    @Override
    public int hashCode() {
        return 31 * dtype.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
