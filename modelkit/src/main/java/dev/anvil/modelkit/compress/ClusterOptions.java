package dev.anvil.modelkit.compress;

import java.util.Map;
import java.util.Set;

/**
 * Weight sharing settings.
 *
 * @param bits       index width b: each clustered weight becomes one of k = 2^b shared values (2 to 8)
 * @param init       where k-means starts
 * @param seed       the seed of k-means++ (the same seed gives the same model)
 * @param perChannel one codebook per output channel instead of one per tensor
 * @param iterations at most this many Lloyd iterations (it stops earlier when nothing moves)
 * @param skip       layers left as they are
 * @param uniform    an evenly spaced codebook (min to max, no k-means), stored as indices, scale
 *                   and zero point, rebuilt as (q - zero point) × scale by Cast, Sub and Mul
 * @param pack       below 8 bits, b-bit indices packed into a bit stream (8 indices in b bytes), unpacked at
 *                   load by standard operators; false keeps one index per byte
 * @param layerBits  index width per layer, overriding {@code bits} for the layers named
 * @param zeroCentroid where a tensor (or channel) holds exact zeros (pruned weights), one shared value is
 *                   fixed at 0 and k-means fits the other 2^b - 1 to the non-zero weights, so zeros stay zeros
 */
public record ClusterOptions(int bits, Init init, long seed, boolean perChannel, int iterations, Set<String> skip,
        boolean uniform, boolean pack, Map<String, Integer> layerBits, boolean zeroCentroid) {
    /** How centroids start: evenly between the minimum and the maximum (Deep Compression's choice) or k-means++. */
    public enum Init {
        LINEAR, KMEANS_PP;

        public static Init parse(String s) {
            return switch (s) {
                case "linear" -> LINEAR;
                case "kmeans++" -> KMEANS_PP;
                default -> throw new IllegalArgumentException("init must be linear or kmeans++, got '" + s + "'");
            };
        }
    }

    public ClusterOptions {
        if (bits < 2 || bits > 8) {
            throw new IllegalArgumentException("bits must be 2 to 8 (k = 2^bits shared values, stored as uint8 indices),"
                    + " got " + bits);
        }
        layerBits = Map.copyOf(layerBits);
        for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(layerBits).entrySet()) {
            if (e.getValue() < 2 || e.getValue() > 8) {
                throw new IllegalArgumentException("bits of layer '" + e.getKey() + "' must be 2 to 8 (k = 2^bits shared"
                        + " values), got " + e.getValue());
            }
            if (skip.contains(e.getKey())) {
                throw new IllegalArgumentException("layer '" + e.getKey() + "' is both skipped and given bits; choose one");
            }
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be at least 1, got " + iterations);
        }
        skip = Set.copyOf(skip);
    }

    /** k-means settings (the codebook is uniform only when k-means leaves it evenly spaced). */
    public ClusterOptions(int bits, Init init, long seed, boolean perChannel, int iterations, Set<String> skip) {
        this(bits, init, seed, perChannel, iterations, skip, false, false);
    }

    /** The settings without per-layer bits or a fixed zero. */
    public ClusterOptions(int bits, Init init, long seed, boolean perChannel, int iterations, Set<String> skip,
            boolean uniform, boolean pack) {
        this(bits, init, seed, perChannel, iterations, skip, uniform, pack, Map.of(), false);
    }

    public static ClusterOptions of(int bits) {
        return new ClusterOptions(bits, Init.LINEAR, 0, false, 50, Set.of());
    }

    public int clusters() {
        return 1 << bits;
    }

    /** The index width of one layer: its {@code layerBits} entry, else {@code bits}. */
    public int bitsOf(String layer) {
        return layerBits.getOrDefault(layer, bits);
    }
}
