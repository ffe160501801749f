package dev.anvil.modelkit.compress;

import java.util.Map;
import java.util.Set;

/**
 * Low-rank factorisation settings: the rank of each layer comes from {@code ranks} when named there, else
 * from {@code energy} (the smallest rank keeping that fraction of Σσ²), else from {@code paramRatio} (one
 * energy level for every layer, the highest whose factorised layers fit the parameter budget).
 *
 * @param energy     in (0, 1], or null
 * @param paramRatio in (0, 1): the factorisable layers' parameters after / before, or null
 * @param ranks      explicit ranks by layer (at least 1, at most min(rows, columns))
 * @param skip       layers left as they are
 */
public record LowRankOptions(Double energy, Double paramRatio, Map<String, Integer> ranks, Set<String> skip) {
    public LowRankOptions {
        if (energy != null && paramRatio != null) {
            throw new IllegalArgumentException("give energy or param_ratio, not both");
        }
        if (energy == null && paramRatio == null && ranks.isEmpty()) {
            throw new IllegalArgumentException("give energy (e.g. 0.9), param_ratio (e.g. 0.8) or ranks per layer");
        }
        if (energy != null && !(energy > 0 && energy <= 1)) {
            throw new IllegalArgumentException("energy must be above 0 and at most 1 (the fraction of the squared"
                    + " singular values kept), got " + energy);
        }
        if (paramRatio != null && !(paramRatio > 0 && paramRatio < 1)) {
            throw new IllegalArgumentException("param_ratio must be above 0 and below 1 (parameters after / before),"
                    + " got " + paramRatio);
        }
        ranks = Map.copyOf(ranks);
        skip = Set.copyOf(skip);
        ranks.forEach((layer, r) -> {
            if (r < 1) {
                throw new IllegalArgumentException("the rank of layer '" + layer + "' must be at least 1, got " + r);
            }
        });
    }

    public static LowRankOptions energy(double energy) {
        return new LowRankOptions(energy, null, Map.of(), Set.of());
    }

    public static LowRankOptions paramRatio(double ratio) {
        return new LowRankOptions(null, ratio, Map.of(), Set.of());
    }
}
