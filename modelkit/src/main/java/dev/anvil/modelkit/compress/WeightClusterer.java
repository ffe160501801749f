package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Weight sharing (Deep Compression's "trained quantisation", without the training): each layer's weights
 * are clustered by k-means into k = 2^b shared values. The file keeps a uint8 index per weight and a float
 * codebook; at load a Cast and a Gather rebuild the float weight (ONNX Runtime folds them into a constant,
 * so inference runs at float speed and the file is about 4× smaller). Per channel, each output channel has
 * its own codebook and an Add of per-channel offsets picks it out of the concatenated codebooks.
 */
public final class WeightClusterer {

    private WeightClusterer() {}

    /** Clusters in place and reports per layer. */
    public static ClusterReport cluster(OnnxModel model, ClusterOptions options) {
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        WeightLayers.requireKnown(layers, options.skip(), "skip");
        OnnxGraph graph = model.graph();
        List<ClusterReport.Layer> rows = new ArrayList<>();
        long before = 0;
        long after = 0;
        int k = options.clusters();
        for (WeightLayers.Layer layer : layers) {
            long n = layer.params();
            long floatBytes = 4 * n;
            before += floatBytes;
            NodeProto node = graph.nodes().stream().filter(x -> x.getName().equals(layer.name())).findFirst().orElseThrow();
            int axis = channelAxis(node, layer.dims().length);
            int channels = options.perChannel() ? (int) layer.dims()[axis] : 1;
            long clusteredBytes = n + 4L * k * channels + (channels > 1 ? 4L * channels : 0);
            String leftAlone = options.skip().contains(layer.name()) ? "skipped"
                    : clusteredBytes >= floatBytes ? "too small: indices and codebook would not be smaller" : null;
            if (leftAlone != null) {
                after += floatBytes;
                rows.add(new ClusterReport.Layer(layer.name(), layer.opType(), n, 0, floatBytes, floatBytes, 32, 0,
                        leftAlone));
                continue;
            }
            float[] w = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
            byte[] indices = new byte[w.length];
            float[] codebooks = new float[k * channels];
            double squaredError = 0;
            int used = 0;
            long stride = stride(layer.dims(), axis);
            for (int c = 0; c < channels; c++) {
                float[] slice = channels == 1 ? w : slice(w, layer.dims(), axis, stride, c);
                float[] centroids = KMeans1d.fit(slice, k, options.init(), options.seed() + c, options.iterations());
                used = Math.max(used, centroids.length);
                System.arraycopy(centroids, 0, codebooks, c * k, centroids.length);
                for (int i = 0; i < w.length; i++) {
                    if (channels > 1 && channelOf(i, axis, stride, layer.dims()) != c) {
                        continue;
                    }
                    int j = KMeans1d.nearest(centroids, w[i]);
                    indices[i] = (byte) j;
                    double d = w[i] - centroids[j];
                    squaredError += d * d;
                }
            }
            rewrite(model, node.getName(), layer, indices, codebooks, channels, axis, k);
            after += clusteredBytes;
            rows.add(new ClusterReport.Layer(layer.name(), layer.opType(), n, used, floatBytes, clusteredBytes,
                    8.0 * clusteredBytes / n, squaredError / n, null));
        }
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.clustering", "k-means " + k + " (" + options.bits() + " bits), "
                + options.init().name().toLowerCase() + (options.perChannel() ? ", per channel" : ", per tensor")
                + ", seed " + options.seed());
        return new ClusterReport(rows, options.bits(), before, after);
    }

    /**
     * Imposes a clustered reference model's indices on {@code model} (typically that model after fine-tuning): every
     * layer the reference shares is shared again with the reference's indices, and with its codebook as it was
     * ({@code refit} false: the model rebuilds exactly the reference's weights) or refitted, each shared value the
     * mean of the weights the fine-tuning left in its cluster (Deep Compression's centroid update). A model whose
     * weights are themselves shared is unfolded first. Layers are matched by name and must have the reference's shape.
     *
     * @throws IllegalArgumentException when the reference shares no weight, or a layer is missing or reshaped
     */
    public static ClusterReport applyCodebook(OnnxModel model, OnnxModel reference, boolean refit) {
        java.util.Map<String, SharedWeights.Shared> shared = SharedWeights.of(reference);
        if (shared.isEmpty()) {
            throw new IllegalArgumentException("the codebook_from model has no clustered weights (Gather of a codebook by"
                    + " uint8 indices); give the output of a cluster task");
        }
        SharedWeights.unfold(model);
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        java.util.Map<String, WeightLayers.Layer> byName = new java.util.LinkedHashMap<>();
        layers.forEach(l -> byName.put(l.name(), l));
        OnnxGraph graph = model.graph();
        List<ClusterReport.Layer> rows = new ArrayList<>();
        long before = 0;
        long after = 0;
        int bits = 0;
        for (SharedWeights.Shared s : shared.values()) {
            WeightLayers.Layer layer = byName.get(s.layer());
            if (layer == null) {
                throw new IllegalArgumentException("layer '" + s.layer() + "' of the codebook_from model is not a layer"
                        + " of this model with a float weight; its layers are " + byName.keySet());
            }
            if (!Arrays.equals(layer.dims(), s.dims())) {
                throw new IllegalArgumentException("layer '" + s.layer() + "' has shape " + Arrays.toString(layer.dims())
                        + " here but " + Arrays.toString(s.dims()) + " in the codebook_from model");
            }
            float[] w = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
            float[] book = s.codebook().clone();
            if (refit) {
                double[] sum = new double[book.length];
                long[] count = new long[book.length];
                for (int i = 0; i < w.length; i++) {
                    sum[s.indices()[i]] += w[i];
                    count[s.indices()[i]]++;
                }
                for (int j = 0; j < book.length; j++) {
                    if (count[j] > 0) {
                        book[j] = (float) (sum[j] / count[j]);
                    }
                }
            }
            byte[] local = new byte[w.length];
            double squaredError = 0;
            for (int i = 0; i < w.length; i++) {
                local[i] = (byte) (s.indices()[i] % s.clusters());
                double d = w[i] - book[s.indices()[i]];
                squaredError += d * d;
            }
            NodeProto node = graph.nodes().stream().filter(x -> x.getName().equals(layer.name())).findFirst().orElseThrow();
            int axis = channelAxis(node, layer.dims().length);
            rewrite(model, node.getName(), layer, local, book, s.channels(), axis, s.clusters());
            long n = layer.params();
            long bytes = n + 4L * book.length + (s.channels() > 1 ? 4L * s.channels() : 0);
            before += 4 * n;
            after += bytes;
            bits = Math.max(bits, 32 - Integer.numberOfLeadingZeros(s.clusters() - 1));
            rows.add(new ClusterReport.Layer(layer.name(), layer.opType(), n, s.clusters(), 4 * n, bytes,
                    8.0 * bytes / n, squaredError / n, null));
        }
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.clustering", "codebook and indices of an earlier clustering"
                + (refit ? ", shared values refitted to the weights" : ", shared values kept"));
        return new ClusterReport(rows, bits, before, after);
    }

    /** The weight's output-channel axis: 0 for Conv and Gemm with transB, the last for MatMul and plain Gemm. */
    static int channelAxis(NodeProto node, int rank) {
        if (node.getOpType().equals("Conv")) {
            return 0;
        }
        if (node.getOpType().equals("Gemm") && WeightLayers.intAttr(node, "transB", 0) == 1) {
            return 0;
        }
        return rank - 1;
    }

    private static void rewrite(OnnxModel model, String nodeName, WeightLayers.Layer layer, byte[] indices,
            float[] codebooks, int channels, int axis, int k) {
        OnnxGraph graph = model.graph();
        String base = layer.weight();
        String idx = graph.uniqueName(base + "_cluster_idx");
        String book = graph.uniqueName(base + "_codebook");
        WeightLayers.addInitializer(model, Tensors.bytes(idx, TensorProto.DataType.UINT8, layer.dims(), indices));
        WeightLayers.addInitializer(model, Tensors.floats(book, new long[] {codebooks.length}, codebooks));
        String idx32 = graph.uniqueName(base + "_cluster_idx32");
        graph.addNode(NodeProto.newBuilder().setOpType("Cast").setName(graph.uniqueName(base + "_cluster_Cast"))
                .addInput(idx).addOutput(idx32).addAttribute(WeightLayers.intAttr("to", TensorProto.DataType.INT32_VALUE))
                .build());
        String gatherIndices = idx32;
        if (channels > 1) {
            long[] offsetDims = new long[layer.dims().length];
            Arrays.fill(offsetDims, 1);
            offsetDims[axis] = channels;
            int[] offsets = new int[channels];
            for (int c = 0; c < channels; c++) {
                offsets[c] = c * k;
            }
            String off = graph.uniqueName(base + "_codebook_offsets");
            WeightLayers.addInitializer(model, Tensors.int32s(off, offsetDims, offsets));
            gatherIndices = graph.uniqueName(base + "_cluster_idx_global");
            graph.addNode(NodeProto.newBuilder().setOpType("Add").setName(graph.uniqueName(base + "_cluster_Add"))
                    .addInput(idx32).addInput(off).addOutput(gatherIndices).build());
        }
        String rebuilt = graph.uniqueName(base + "_shared");
        graph.addNode(NodeProto.newBuilder().setOpType("Gather").setName(graph.uniqueName(base + "_cluster_Gather"))
                .addInput(book).addInput(gatherIndices).addOutput(rebuilt).build());
        WeightLayers.nodeBuilder(graph, nodeName).setInput(1, rebuilt);
    }

    private static long stride(long[] dims, int axis) {
        long s = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            s *= dims[d];
        }
        return s;
    }

    private static int channelOf(int index, int axis, long stride, long[] dims) {
        return (int) ((index / stride) % dims[axis]);
    }

    private static float[] slice(float[] w, long[] dims, int axis, long stride, int c) {
        float[] out = new float[(int) (w.length / dims[axis])];
        int n = 0;
        for (int i = 0; i < w.length; i++) {
            if (channelOf(i, axis, stride, dims) == c) {
                out[n++] = w[i];
            }
        }
        return out;
    }
}
