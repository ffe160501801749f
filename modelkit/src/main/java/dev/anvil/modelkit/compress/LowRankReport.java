package dev.anvil.modelkit.compress;

import java.util.List;

/**
 * What low-rank factorisation did, per layer and in all: {@code paramsBefore/After} count the factorisable layers
 * (the Gemm/MatMul layers with a 2-D weight, the 1×1 convolutions with group 1, and with {@code embeddings} the
 * embedding tables; for a convolution rows = input channels and columns = output channels), {@code
 * modelParamsBefore/After} every initializer element of the model.
 */
public record LowRankReport(List<Layer> layers, long paramsBefore, long paramsAfter, long modelParamsBefore,
        long modelParamsAfter) {
    /**
     * One layer: W (rows × columns, as multiplied: x·W; an embedding table is vocabulary × width) became
     * P (rows × rank) · Q (rank × columns), or was left alone with the reason.
     *
     * @param energyKept Σσ² kept / Σσ² at that rank (of the whitened spectrum when {@code method} is
     *                   activation_aware, of L'ᵀ·W* when sequential, of D^½·E when token_frequency)
     * @param method     {@code svd}, {@code activation_aware}, {@code activation_aware, sequential} (refitted on the
     *                   partly factorised model) or {@code token_frequency} (an embedding table weighed by its ids'
     *                   counts); null when the layer is not factorisable
     */
    public record Layer(String name, String opType, int rows, int columns, int rank, int fullRank, long paramsBefore,
            long paramsAfter, double energyKept, String leftAlone, String method) {}

    public double paramRatio() {
        return paramsBefore == 0 ? 1 : (double) paramsAfter / paramsBefore;
    }

    public double modelParamRatio() {
        return modelParamsBefore == 0 ? 1 : (double) modelParamsAfter / modelParamsBefore;
    }
}
