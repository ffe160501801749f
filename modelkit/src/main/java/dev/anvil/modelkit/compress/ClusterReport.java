package dev.anvil.modelkit.compress;

import java.util.List;

/** What weight sharing did, per layer and in all. */
public record ClusterReport(List<Layer> layers, int bits, long weightBytesBefore, long weightBytesAfter) {
    /**
     * One layer.
     *
     * @param clusters        shared values in its codebook(s), per codebook
     * @param bytesBefore     its float weight
     * @param bytesAfter      uint8 indices plus the float codebook(s); equal to before when left alone
     * @param storedBitsPerWeight bits stored per weight: 8 for the index plus the codebook's share
     * @param leftAlone       why the layer was not clustered, or null
     * @param storage         how the file keeps it: {@link #GATHER} (float codebook), {@link #SCALE_ZERO_POINT}
     *                        (uniform codebook), or {@link #FLOAT} when left alone
     * @param packedIndices   b-bit indices packed into a bit stream (8 indices in b bytes), unpacked at load
     * @param bits            the layer's index width b (32 when left alone as float)
     */
    public record Layer(String name, String opType, long params, int clusters, long bytesBefore, long bytesAfter,
            double storedBitsPerWeight, double meanSquaredError, String leftAlone, String storage,
            boolean packedIndices, int bits) {
    }

    /** Indices into a float codebook, rebuilt by Gather. */
    public static final String GATHER = "gather";
    /**
     * The codebook is an evenly spaced grid, value = (q - zero point) × scale (DequantizeLinear's formula), rebuilt
     * by Cast, Sub and Mul: a float scale and zero point per codebook instead of 2^b floats.
     */
    public static final String SCALE_ZERO_POINT = "scale_zero_point";
    /** The float weight, untouched. */
    public static final String FLOAT = "float";

    /** Information bits per clustered weight (b), before entropy coding. */
    public double indexBitsPerWeight() {
        return bits;
    }
}
