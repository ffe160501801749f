package dev.anvil.modelkit.datasets;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The element types Anvil reads and writes in {@code .npy} files, always little-endian. */
public enum NpyDtype {
    UINT8("|u1", 1, true),
    /** NumPy's bool: one byte, 0 or 1. Not an integer type here, so it cannot hold labels. */
    BOOL("|b1", 1, false),
    INT32("<i4", 4, true),
    INT64("<i8", 8, true),
    FLOAT16("<f2", 2, false),
    FLOAT32("<f4", 4, false),
    FLOAT64("<f8", 8, false);

    private final String descr;
    private final int itemSize;
    private final boolean integer;

    NpyDtype(String descr, int itemSize, boolean integer) {
        this.descr = descr;
        this.itemSize = itemSize;
        this.integer = integer;
    }

    /** The NumPy type string written in the header, e.g. {@code <f4}. */
    public String descr() {
        return descr;
    }

    public int itemSize() {
        return itemSize;
    }

    public boolean isInteger() {
        return integer;
    }

    /**
     * The dtype for a header's descr. Byte order does not matter for single-byte types, so NumPy's
     * {@code |u1}, {@code <u1} and {@code >u1} all mean UINT8 (and {@code |b1} and friends BOOL).
     */
    public static NpyDtype fromDescr(String descr) {
        if (descr.length() == 3 && "|<>=".indexOf(descr.charAt(0)) >= 0) {
            if (descr.substring(1).equals("u1")) {
                return UINT8;
            }
            if (descr.substring(1).equals("b1")) {
                return BOOL;
            }
        }
        for (NpyDtype dtype : values()) {
            if (dtype.descr.equals(descr)) {
                return dtype;
            }
        }
        if (descr.startsWith(">")) {
            throw new DatasetFormatException("big-endian npy arrays ('" + descr + "') are not supported;"
                    + " save a little-endian copy, e.g. arr.astype('<" + descr.substring(1) + "')");
        }
        throw new DatasetFormatException("unsupported npy descr '" + descr + "', expected one of " + supported()
                + "; convert the array with arr.astype(...) before saving");
    }

    static String supported() {
        return Arrays.stream(values()).map(NpyDtype::descr).collect(Collectors.joining(", ", "[", "]"));
    }
}
