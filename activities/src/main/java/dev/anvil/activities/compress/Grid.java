package dev.anvil.activities.compress;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The points {@code compress} tries: every combination of {@code grid.sparsity} (unstructured, 0 = none),
 * {@code grid.bits} (weight sharing, 2–8; 32 = weights stay float) and {@code grid.rank} (low-rank parameter
 * ratio of the Gemm/MatMul weights; 1 = not factorised), at most {@value #MAX_POINTS} in all.
 */
record Grid(List<Double> sparsity, List<Integer> bits, List<Double> rank) {
    static final int MAX_POINTS = 27;
    static final int FLOAT_BITS = 32;

    /** One combination; applied as low rank, then pruning, then weight sharing. */
    record Point(double sparsity, int bits, double rank) {
        String label() {
            return "sparsity " + sparsity + ", " + (bits == FLOAT_BITS ? "float" : bits + " bit") + ", rank "
                    + (rank == 1 ? "full" : rank);
        }
    }

    static Grid parse(Object value) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("needs with.grid, e.g. {sparsity: [0, 0.5], bits: [32, 4], rank: [1, 0.5]}");
        }
        for (Object key : m.keySet()) {
            if (!List.of("sparsity", "bits", "rank").contains(String.valueOf(key))) {
                throw new IllegalArgumentException("grid." + key + " is not a grid axis; use sparsity, bits and rank");
            }
        }
        List<Double> sparsity = numbers(m.get("sparsity"), "sparsity", 0.0);
        List<Double> bitsRaw = numbers(m.get("bits"), "bits", (double) FLOAT_BITS);
        List<Double> rank = numbers(m.get("rank"), "rank", 1.0);
        for (double s : sparsity) {
            if (s < 0 || s >= 1) {
                throw new IllegalArgumentException("grid.sparsity values must be in [0, 1), got " + s);
            }
        }
        List<Integer> bits = new ArrayList<>();
        for (double b : bitsRaw) {
            if (b != Math.rint(b) || b != FLOAT_BITS && (b < 2 || b > 8)) {
                throw new IllegalArgumentException("grid.bits values must be 2 to 8 (shared values per codebook 2^bits)"
                        + " or 32 (weights stay float), got " + b);
            }
            bits.add((int) b);
        }
        for (double r : rank) {
            if (r <= 0 || r > 1) {
                throw new IllegalArgumentException("grid.rank values must be above 0 and at most 1 (parameters after /"
                        + " before of the Gemm/MatMul weights; 1 = not factorised), got " + r);
            }
        }
        long points = (long) sparsity.size() * bits.size() * rank.size();
        if (points > MAX_POINTS) {
            throw new IllegalArgumentException("the grid has " + sparsity.size() + " × " + bits.size() + " × "
                    + rank.size() + " = " + points + " points; at most " + MAX_POINTS + " are tried, give fewer values");
        }
        return new Grid(sparsity, bits, rank);
    }

    List<Point> points() {
        List<Point> out = new ArrayList<>();
        for (double r : rank) {
            for (double s : sparsity) {
                for (int b : bits) {
                    out.add(new Point(s, b, r));
                }
            }
        }
        return out;
    }

    private static List<Double> numbers(Object value, String axis, double neutral) {
        if (value == null) {
            return List.of(neutral);
        }
        if (!(value instanceof Collection<?> c) || c.isEmpty()) {
            throw new IllegalArgumentException("grid." + axis + " must be a non-empty list of numbers, got " + value);
        }
        Set<Double> out = new LinkedHashSet<>();
        for (Object x : c) {
            if (!(x instanceof Number n)) {
                throw new IllegalArgumentException("grid." + axis + " must hold numbers, got " + x);
            }
            if (!out.add(n.doubleValue())) {
                throw new IllegalArgumentException("grid." + axis + " lists " + x + " twice");
            }
        }
        return List.copyOf(out);
    }
}
