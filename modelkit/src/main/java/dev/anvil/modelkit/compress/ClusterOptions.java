package dev.anvil.modelkit.compress;

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
 * @param pack       at bits 4 and below, two indices per byte (unpacked at load); false (the default of the
 *                   short constructor) keeps one per byte, the form SharedWeights reads back
 */
public record ClusterOptions(int bits, Init init, long seed, boolean perChannel, int iterations, Set<String> skip,
        boolean uniform, boolean pack) {
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
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be at least 1, got " + iterations);
        }
        skip = Set.copyOf(skip);
    }

    /** k-means settings (the codebook is uniform only when k-means leaves it evenly spaced). */
    public ClusterOptions(int bits, Init init, long seed, boolean perChannel, int iterations, Set<String> skip) {
        this(bits, init, seed, perChannel, iterations, skip, false, false);
    }

    public static ClusterOptions of(int bits) {
        return new ClusterOptions(bits, Init.LINEAR, 0, false, 50, Set.of());
    }

    public int clusters() {
        return 1 << bits;
    }
}
