package dev.anvil.modelkit.compress;

import java.util.List;

/** What low-rank factorisation did, per layer and in all (over the Gemm/MatMul layers with a 2-D weight
 * and the 1×1 convolutions with group 1; for those, rows = input channels and columns = output channels). */
public record LowRankReport(List<Layer> layers, long paramsBefore, long paramsAfter) {
    /**
     * One layer: W (rows × columns, as multiplied: x·W) became P (rows × rank) · Q (rank × columns), or was left
     * alone with the reason.
     *
     * @param energyKept Σσ² kept / Σσ² at that rank
     */
    public record Layer(String name, String opType, int rows, int columns, int rank, int fullRank, long paramsBefore,
            long paramsAfter, double energyKept, String leftAlone) {}

    public double paramRatio() {
        return paramsBefore == 0 ? 1 : (double) paramsAfter / paramsBefore;
    }
}
