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
     */
    public record Layer(String name, String opType, long params, int clusters, long bytesBefore, long bytesAfter,
            double storedBitsPerWeight, double meanSquaredError, String leftAlone) {}

    /** Information bits per clustered weight (b), before entropy coding. */
    public double indexBitsPerWeight() {
        return bits;
    }
}
