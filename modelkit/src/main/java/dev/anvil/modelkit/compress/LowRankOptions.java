package dev.anvil.modelkit.compress;

import java.util.Map;
import java.util.Set;

/**
 * Low-rank factorisation settings: the rank of each layer comes from {@code ranks} when named there, else
 * from {@code energy} (the smallest rank keeping that fraction of Σσ²), else from {@code paramRatio} (one
 * parameter budget for every factorisable layer, shared out by {@code allocation}).
 *
 * @param energy     in (0, 1], or null
 * @param paramRatio in (0, 1): the factorisable layers' parameters after / before, or null
 * @param ranks      explicit ranks by layer (at least 1, at most min(rows, columns))
 * @param skip       layers left as they are
 * @param method     {@link Method#SVD} (minimise ‖W − W'‖) or {@link Method#ACTIVATION_AWARE} (minimise
 *                   ‖X·W − X·W'‖ over calibration inputs X, which the caller measures with {@link InputGrams})
 * @param allocation how {@code paramRatio} is shared out among the layers
 * @param embeddings also factorise embedding tables (a float initializer read by one Gather on axis 0)
 */
public record LowRankOptions(Double energy, Double paramRatio, Map<String, Integer> ranks, Set<String> skip,
        Method method, Allocation allocation, boolean embeddings) {

    /** What the truncation minimises. */
    public enum Method {
        /** Plain truncated SVD of the weight: the best rank-r W' in ‖W − W'‖. */
        SVD,
        /** SVD of Lᵀ·W with XᵀX = L·Lᵀ (SVD-LLM's whitening): the best rank-r W' in ‖X·W − X·W'‖. */
        ACTIVATION_AWARE
    }

    /** How one parameter budget becomes per-layer ranks. */
    public enum Allocation {
        /** The highest energy level common to all layers whose parameters fit (each layer keeps the same fraction). */
        ENERGY,
        /**
         * The ranks that minimise the sum of the layers' relative truncation errors (1 − energy kept, measured on
         * the whitened spectrum with {@link Method#ACTIVATION_AWARE}) within the budget, by a Lagrange multiplier:
         * a layer that loses little per parameter saved gives more.
         */
        ERROR
    }

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
        if (allocation == Allocation.ERROR && paramRatio == null) {
            throw new IllegalArgumentException("allocation: error shares out a param_ratio budget; give param_ratio");
        }
        method = method == null ? Method.SVD : method;
        allocation = allocation == null ? Allocation.ENERGY : allocation;
        ranks = Map.copyOf(ranks);
        skip = Set.copyOf(skip);
        ranks.forEach((layer, r) -> {
            if (r < 1) {
                throw new IllegalArgumentException("the rank of layer '" + layer + "' must be at least 1, got " + r);
            }
        });
    }

    /** Plain SVD, a common energy level, weight layers only. */
    public LowRankOptions(Double energy, Double paramRatio, Map<String, Integer> ranks, Set<String> skip) {
        this(energy, paramRatio, ranks, skip, Method.SVD, Allocation.ENERGY, false);
    }

    public static LowRankOptions energy(double energy) {
        return new LowRankOptions(energy, null, Map.of(), Set.of());
    }

    public static LowRankOptions paramRatio(double ratio) {
        return new LowRankOptions(null, ratio, Map.of(), Set.of());
    }

    public LowRankOptions withMethod(Method m) {
        return new LowRankOptions(energy, paramRatio, ranks, skip, m, allocation, embeddings);
    }

    public LowRankOptions withAllocation(Allocation a) {
        return new LowRankOptions(energy, paramRatio, ranks, skip, method, a, embeddings);
    }

    public LowRankOptions withEmbeddings(boolean e) {
        return new LowRankOptions(energy, paramRatio, ranks, skip, method, allocation, e);
    }

    public LowRankOptions withParamRatio(double ratio) {
        return new LowRankOptions(null, ratio, ranks, skip, method, allocation, embeddings);
    }
}
