package dev.anvil.modelkit.compress;

import java.util.Map;
import java.util.Set;

/**
 * Unstructured magnitude pruning settings.
 *
 * @param sparsity the fraction of weights set to zero, in [0, 1)
 * @param global   true: one magnitude threshold over every pruned layer together (layers with many small
 *                 weights lose more); false: each layer loses {@code sparsity} of its own weights
 * @param layers   per-layer sparsities that override {@code sparsity} for those layers (pruned alone)
 * @param skip     layers left as they are
 */
public record PruneOptions(double sparsity, boolean global, Map<String, Double> layers, Set<String> skip) {
    public PruneOptions {
        checkSparsity("sparsity", sparsity);
        layers = Map.copyOf(layers);
        skip = Set.copyOf(skip);
        layers.forEach((name, s) -> checkSparsity("the sparsity of layer '" + name + "'", s));
    }

    public static PruneOptions uniform(double sparsity) {
        return new PruneOptions(sparsity, false, Map.of(), Set.of());
    }

    static void checkSparsity(String what, double s) {
        if (!(s >= 0 && s < 1)) {
            throw new IllegalArgumentException(what + " must be at least 0 and below 1 (the fraction of weights set to"
                    + " zero; 1 would remove the layer), got " + s);
        }
    }
}
