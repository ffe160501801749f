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
 * @param refinement {@link Refinement#NONE} (each layer fitted alone) or {@link Refinement#SEQUENTIAL} (each layer
 *                   fitted, in graph order, to the original layer's outputs from the inputs of the model whose earlier
 *                   layers are already factorised; see {@link SequentialRefinement})
 * @param embeddingWeights how the rows of an embedding table count in its factorisation
 * @param frequencyFloor with {@link EmbeddingWeights#TOKEN_FREQUENCY}: the weight of a row is its id's count in the
 *                   calibration data plus this (above 0), so ids the calibration data never holds keep a
 *                   reconstruction; null for the default {@link #DEFAULT_FREQUENCY_FLOOR}
 */
public record LowRankOptions(Double energy, Double paramRatio, Map<String, Integer> ranks, Set<String> skip,
        Method method, Allocation allocation, boolean embeddings, Refinement refinement,
        EmbeddingWeights embeddingWeights, Double frequencyFloor) {

    /** A row's weight under token frequency is its count plus this: add-one smoothing. */
    public static final double DEFAULT_FREQUENCY_FLOOR = 1.0;

    /** Whether a layer's factors are fitted alone or to the original outputs given the factorised layers upstream. */
    public enum Refinement {
        /** Each layer's factors from its own weight (and, activation-aware, the original model's inputs). */
        NONE,
        /**
         * In graph order, each layer is fitted by least squares (with the same small ridge as whitening) to the
         * original layer's outputs X·W from the inputs X' of the model whose earlier layers are already factorised,
         * then truncated activation-aware under X'ᵀX'; later layers so correct the error of earlier ones. Needs
         * {@link Method#ACTIVATION_AWARE} (its calibration dataset).
         */
        SEQUENTIAL
    }

    /** How the rows of an embedding table are weighed when it is factorised. */
    public enum EmbeddingWeights {
        /** Every row alike: the truncated SVD of the table. */
        UNIFORM,
        /**
         * Each row by how often its id occurs in the calibration data (plus {@code frequencyFloor}): the subspace is
         * the weighted PCA's, and every row becomes its exact projection onto it. For tables whose ids are a model
         * input; tables read through computed ids (positions) stay uniform.
         */
        TOKEN_FREQUENCY
    }

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
        refinement = refinement == null ? Refinement.NONE : refinement;
        embeddingWeights = embeddingWeights == null ? EmbeddingWeights.UNIFORM : embeddingWeights;
        if (refinement == Refinement.SEQUENTIAL && method != Method.ACTIVATION_AWARE) {
            throw new IllegalArgumentException("refine: sequential fits each layer to the original layer's outputs on"
                    + " calibration inputs; set method: activation_aware (with a calibration dataset)");
        }
        if (embeddingWeights == EmbeddingWeights.TOKEN_FREQUENCY && !embeddings) {
            throw new IllegalArgumentException("embedding_weights: token_frequency weighs the rows of embedding tables;"
                    + " set embeddings: true");
        }
        if (frequencyFloor != null && embeddingWeights != EmbeddingWeights.TOKEN_FREQUENCY) {
            throw new IllegalArgumentException("frequency_floor is read only by embedding_weights: token_frequency;"
                    + " leave it out or set embedding_weights: token_frequency");
        }
        if (frequencyFloor != null && !(frequencyFloor > 0 && Double.isFinite(frequencyFloor))) {
            throw new IllegalArgumentException("frequency_floor must be a finite number above 0 (the weight of an id"
                    + " the calibration data never holds), got " + frequencyFloor);
        }
        if (embeddingWeights == EmbeddingWeights.TOKEN_FREQUENCY && frequencyFloor == null) {
            frequencyFloor = DEFAULT_FREQUENCY_FLOOR;
        }
        ranks = Map.copyOf(ranks);
        skip = Set.copyOf(skip);
        ranks.forEach((layer, r) -> {
            if (r < 1) {
                throw new IllegalArgumentException("the rank of layer '" + layer + "' must be at least 1, got " + r);
            }
        });
    }

    /** Each layer fitted alone, embedding rows alike. */
    public LowRankOptions(Double energy, Double paramRatio, Map<String, Integer> ranks, Set<String> skip,
            Method method, Allocation allocation, boolean embeddings) {
        this(energy, paramRatio, ranks, skip, method, allocation, embeddings, Refinement.NONE, EmbeddingWeights.UNIFORM,
                null);
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
        return new LowRankOptions(energy, paramRatio, ranks, skip, m, allocation, embeddings, refinement,
                embeddingWeights, frequencyFloor);
    }

    public LowRankOptions withAllocation(Allocation a) {
        return new LowRankOptions(energy, paramRatio, ranks, skip, method, a, embeddings, refinement, embeddingWeights,
                frequencyFloor);
    }

    public LowRankOptions withEmbeddings(boolean e) {
        return new LowRankOptions(energy, paramRatio, ranks, skip, method, allocation, e, refinement, embeddingWeights,
                frequencyFloor);
    }

    public LowRankOptions withParamRatio(double ratio) {
        return new LowRankOptions(null, ratio, ranks, skip, method, allocation, embeddings, refinement,
                embeddingWeights, frequencyFloor);
    }

    public LowRankOptions withRefinement(Refinement r) {
        return new LowRankOptions(energy, paramRatio, ranks, skip, method, allocation, embeddings, r, embeddingWeights,
                frequencyFloor);
    }

    /** Embedding rows weighed by {@code weights}; {@code floor} null for the default (token frequency only). */
    public LowRankOptions withEmbeddingWeights(EmbeddingWeights weights, Double floor) {
        return new LowRankOptions(energy, paramRatio, ranks, skip, method, allocation, embeddings, refinement, weights,
                floor);
    }
}
