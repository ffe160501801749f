package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Unstructured magnitude pruning: the weights of smallest absolute value of each Conv, Gemm and MatMul
 * weight are set to zero. The file does not shrink by itself (zeros are stored like any float) but
 * compresses well, and pruned weights cluster and quantise better. Deterministic: among weights of equal
 * magnitude at the threshold, those that come first in the tensor (layers in graph order) are pruned.
 */
public final class MagnitudePruner {

    private MagnitudePruner() {}

    /** Prunes in place and reports per layer. */
    public static PruneReport prune(OnnxModel model, PruneOptions options) {
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        WeightLayers.requireKnown(layers, options.skip(), "skip");
        WeightLayers.requireKnown(layers, options.layers().keySet(), "layers");
        OnnxGraph graph = model.graph();
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (WeightLayers.Layer layer : layers) {
            if (!options.skip().contains(layer.name())) {
                weights.put(layer.name(), Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow()));
            }
        }
        List<float[]> pooled = new ArrayList<>();
        for (WeightLayers.Layer layer : layers) {
            float[] w = weights.get(layer.name());
            if (w == null) {
                continue;
            }
            Double own = options.layers().get(layer.name());
            if (own != null || !options.global()) {
                zeroSmallest(List.of(w), own != null ? own : options.sparsity());
            } else {
                pooled.add(w);
            }
        }
        zeroSmallest(pooled, options.sparsity());
        List<PruneReport.Layer> rows = new ArrayList<>();
        long params = 0;
        long zeros = 0;
        for (WeightLayers.Layer layer : layers) {
            float[] w = weights.get(layer.name());
            boolean skipped = w == null;
            if (skipped) {
                w = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
            } else {
                WeightLayers.replace(graph, layer.weight(), w);
            }
            long z = countZeros(w);
            rows.add(new PruneReport.Layer(layer.name(), layer.opType(), w.length, z, (double) z / w.length, skipped));
            params += w.length;
            zeros += z;
        }
        model.putMetadata("anvil.pruning", (options.global() ? "global" : "per layer") + " magnitude, sparsity "
                + options.sparsity() + (options.layers().isEmpty() ? "" : ", layers " + options.layers())
                + (options.skip().isEmpty() ? "" : ", skipped " + options.skip()));
        return new PruneReport(rows, params, zeros);
    }

    /**
     * Zeroes in {@code model} (typically a pruned model after fine-tuning) exactly the weights that are zero in
     * {@code reference} (the pruned model): layers are matched by name and must have the same shape; a layer of
     * {@code model} that the reference lacks is left alone and reported as skipped.
     *
     * @throws IllegalArgumentException when a layer of the reference is missing here or has another shape
     */
    public static PruneReport applyMask(OnnxModel model, OnnxModel reference) {
        Map<String, float[]> masks = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        OnnxGraph ref = reference.graph();
        for (WeightLayers.Layer layer : WeightLayers.of(reference)) {
            masks.put(layer.name(), Tensors.toFloats(ref.initializer(layer.weight()).orElseThrow()));
            shapes.put(layer.name(), layer.dims());
        }
        if (masks.isEmpty()) {
            throw new IllegalArgumentException("the mask_from model has no layer with a float weight to read a mask from");
        }
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        WeightLayers.requireKnown(layers, masks.keySet(), "the mask_from model's layers");
        OnnxGraph graph = model.graph();
        List<PruneReport.Layer> rows = new ArrayList<>();
        long params = 0;
        long zeros = 0;
        for (WeightLayers.Layer layer : layers) {
            float[] w = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
            float[] mask = masks.get(layer.name());
            if (mask != null) {
                if (!java.util.Arrays.equals(shapes.get(layer.name()), layer.dims())) {
                    throw new IllegalArgumentException("layer '" + layer.name() + "' has shape "
                            + java.util.Arrays.toString(layer.dims()) + " here but "
                            + java.util.Arrays.toString(shapes.get(layer.name())) + " in the mask_from model");
                }
                for (int i = 0; i < w.length; i++) {
                    if (mask[i] == 0f) {
                        w[i] = 0f;
                    }
                }
                WeightLayers.replace(graph, layer.weight(), w);
            }
            long z = countZeros(w);
            rows.add(new PruneReport.Layer(layer.name(), layer.opType(), w.length, z, (double) z / w.length, mask == null));
            params += w.length;
            zeros += z;
        }
        model.putMetadata("anvil.pruning", "mask of an earlier pruning re-imposed");
        return new PruneReport(rows, params, zeros);
    }

    /**
     * Sets to zero round(sparsity × n) of the weights of the arrays together, smallest magnitude first (ties in
     * array order, then index order).
     */
    static void zeroSmallest(List<float[]> arrays, double sparsity) {
        long n = 0;
        for (float[] a : arrays) {
            n += a.length;
        }
        long target = Math.round(sparsity * n);
        if (target == 0) {
            return;
        }
        float[] magnitudes = new float[Math.toIntExact(n)];
        int i = 0;
        for (float[] a : arrays) {
            for (float v : a) {
                magnitudes[i++] = Math.abs(v);
            }
        }
        java.util.Arrays.sort(magnitudes);
        float threshold = magnitudes[(int) target - 1];
        long below = 0;
        for (float m : magnitudes) {
            if (m < threshold) {
                below++;
            } else {
                break;
            }
        }
        long atThreshold = target - below;
        for (float[] a : arrays) {
            for (int j = 0; j < a.length; j++) {
                float m = Math.abs(a[j]);
                if (m < threshold) {
                    a[j] = 0f;
                } else if (m == threshold && atThreshold > 0) {
                    a[j] = 0f;
                    atThreshold--;
                }
            }
        }
    }

    static long countZeros(float[] w) {
        long z = 0;
        for (float v : w) {
            z += v == 0f ? 1 : 0;
        }
        return z;
    }
}
