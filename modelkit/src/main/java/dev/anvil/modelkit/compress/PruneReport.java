package dev.anvil.modelkit.compress;

import java.util.List;

/** What pruning did: per layer and over every layer. */
public record PruneReport(List<Layer> layers, long params, long zeros) {
    /**
     * One layer after pruning.
     *
     * @param zeros    weights that are zero now (including those that were zero before)
     * @param sparsity zeros / params
     * @param skipped  true when the options left the layer alone
     */
    public record Layer(String name, String opType, long params, long zeros, double sparsity, boolean skipped) {}

    public double sparsity() {
        return params == 0 ? 0 : (double) zeros / params;
    }
}
