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
            long clusteredBytes = n + 4L * k * channels + (channels > 1 ? 4L * channels : 0); // unpacked, Gather
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
            Grid[] grids = new Grid[channels];
            double squaredError = 0;
            int used = 0;
            long stride = stride(layer.dims(), axis);
            for (int c = 0; c < channels; c++) {
                float[] slice = channels == 1 ? w : slice(w, layer.dims(), axis, stride, c);
                float[] centroids;
                if (options.uniform()) {
                    grids[c] = Grid.spanning(slice, k);
                    centroids = grids[c].values(k);
                } else {
                    centroids = KMeans1d.fit(slice, k, options.init(), options.seed() + c, options.iterations());
                    grids[c] = Grid.of(centroids);
                    if (grids[c] != null) {
                        centroids = grids[c].values(centroids.length); // what (q - zero point) × scale rebuilds, bit for bit
                    }
                }
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
            long opset = opset(model);
            boolean dequantize = Arrays.stream(grids).allMatch(g -> g != null) && opset >= 7;
            boolean packed = options.pack() && options.bits() <= 4 && opset >= 7;
            long stored = rewrite(model, node.getName(), layer, indices, codebooks, channels, axis, k,
                    dequantize ? grids : null, packed);
            after += stored;
            rows.add(new ClusterReport.Layer(layer.name(), layer.opType(), n, used, floatBytes, stored,
                    8.0 * stored / n, squaredError / n, null,
                    dequantize ? ClusterReport.SCALE_ZERO_POINT : ClusterReport.GATHER, packed));
        }
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.clustering", (options.uniform() ? "uniform " : "k-means ") + k + " (" + options.bits()
                + " bits), " + (options.uniform() ? "min to max" : options.init().name().toLowerCase())
                + (options.perChannel() ? ", per channel" : ", per tensor") + ", seed " + options.seed());
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
            long bytes = rewrite(model, node.getName(), layer, local, book, s.channels(), axis, s.clusters(), null, false);
            long n = layer.params();
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

    /**
     * An evenly spaced codebook, value(q) = (q - zeroPoint) × scale for q = 0 … k-1 (DequantizeLinear's
     * formula), rebuilt from a uint8 index without a float codebook.
     */
    record Grid(float scale, int zeroPoint) {
        /** The k-level grid from the minimum to the maximum, its zero point an integer so that 0 is exact. */
        static Grid spanning(float[] values, int k) {
            float min = 0;
            float max = 0;
            for (float v : values) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            // min <= 0 <= max, so the zero point lies in [0, k-1]
            if (max == min) {
                return new Grid(1, 0);
            }
            float scale = (max - min) / (k - 1);
            int zeroPoint = Math.round(-min / scale);
            return new Grid(scale, Math.max(0, Math.min(k - 1, zeroPoint)));
        }

        /**
         * The grid that k-means' centroids (ascending) lie on, or null: at least two, evenly spaced to within
         * 1e-5 of the step, with the value 0 at an integer index in [0, 255] (the uint8 zero point).
         */
        static Grid of(float[] centroids) {
            if (centroids.length < 2) {
                return null;
            }
            double step = ((double) centroids[centroids.length - 1] - centroids[0]) / (centroids.length - 1);
            if (!(step > 0)) {
                return null;
            }
            for (int j = 0; j < centroids.length; j++) {
                if (Math.abs(centroids[j] - (centroids[0] + j * step)) > 1e-5 * step) {
                    return null;
                }
            }
            double zero = -centroids[0] / step;
            long zeroPoint = Math.round(zero);
            if (Math.abs(zero - zeroPoint) > 1e-4 || zeroPoint < 0 || zeroPoint > 255) {
                return null;
            }
            return new Grid((float) step, (int) zeroPoint);
        }

        float[] values(int levels) {
            float[] v = new float[levels];
            for (int q = 0; q < levels; q++) {
                v[q] = (q - zeroPoint) * scale;
            }
            return v;
        }
    }

    private static long opset(OnnxModel model) {
        return model.opset("").or(() -> model.opset("ai.onnx")).orElse(1L);
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

    /** Rewrites the layer's weight and returns the bytes its new initializers take in the file. */
    private static long rewrite(OnnxModel model, String nodeName, WeightLayers.Layer layer, byte[] indices,
            float[] codebooks, int channels, int axis, int k, Grid[] grids, boolean packed) {
        OnnxGraph graph = model.graph();
        String base = layer.weight();
        List<TensorProto> added = new ArrayList<>();
        java.util.function.Consumer<TensorProto> add = t -> {
            WeightLayers.addInitializer(model, t);
            added.add(t);
        };
        String idx = graph.uniqueName(base + "_cluster_idx");
        String idx32 = graph.uniqueName(base + "_cluster_idx32");
        if (packed) {
            add.accept(Tensors.bytes(idx, TensorProto.DataType.UINT8, new long[] {(indices.length + 1) / 2},
                    pack(indices)));
            unpack(graph, add, base, idx, idx32, indices.length, layer.dims(), opset(model));
        } else {
            add.accept(Tensors.bytes(idx, TensorProto.DataType.UINT8, layer.dims(), indices));
            if (grids == null) {
                cast(graph, base, idx, idx32, TensorProto.DataType.INT32_VALUE);
            }
        }
        String rebuilt = graph.uniqueName(base + "_shared");
        if (grids != null) {
            // (q - zero point) × scale in float operators, which ONNX Runtime folds into a float constant; a
            // DequantizeLinear here would be taken for a quantised model and requantised (see docs/compression.md)
            String q = graph.uniqueName(base + "_cluster_q");
            cast(graph, base, packed ? idx32 : idx, q, TensorProto.DataType.FLOAT_VALUE);
            float[] scales = new float[channels];
            float[] zeroPoints = new float[channels];
            for (int c = 0; c < channels; c++) {
                scales[c] = grids[c].scale();
                zeroPoints[c] = grids[c].zeroPoint();
            }
            long[] paramDims = new long[0];
            if (channels > 1) {
                paramDims = new long[layer.dims().length];
                Arrays.fill(paramDims, 1);
                paramDims[axis] = channels;
            }
            String scale = graph.uniqueName(base + "_cluster_scale");
            String zeroPoint = graph.uniqueName(base + "_cluster_zero_point");
            add.accept(Tensors.floats(scale, paramDims, scales));
            add.accept(Tensors.floats(zeroPoint, paramDims, zeroPoints));
            String centred = graph.uniqueName(base + "_cluster_centred");
            graph.addNode(NodeProto.newBuilder().setOpType("Sub").setName(graph.uniqueName(base + "_cluster_Sub"))
                    .addInput(q).addInput(zeroPoint).addOutput(centred).build());
            graph.addNode(NodeProto.newBuilder().setOpType("Mul").setName(graph.uniqueName(base + "_cluster_Mul"))
                    .addInput(centred).addInput(scale).addOutput(rebuilt).build());
        } else {
            String book = graph.uniqueName(base + "_codebook");
            add.accept(Tensors.floats(book, new long[] {codebooks.length}, codebooks));
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
                add.accept(Tensors.int32s(off, offsetDims, offsets));
                gatherIndices = graph.uniqueName(base + "_cluster_idx_global");
                graph.addNode(NodeProto.newBuilder().setOpType("Add").setName(graph.uniqueName(base + "_cluster_Add"))
                        .addInput(idx32).addInput(off).addOutput(gatherIndices).build());
            }
            graph.addNode(NodeProto.newBuilder().setOpType("Gather").setName(graph.uniqueName(base + "_cluster_Gather"))
                    .addInput(book).addInput(gatherIndices).addOutput(rebuilt).build());
        }
        WeightLayers.nodeBuilder(graph, nodeName).setInput(1, rebuilt);
        return added.stream().mapToLong(Tensors::storedBytes).sum();
    }

    /** Two 4-bit indices per byte, the even element in the low nibble (ONNX's INT4/UINT4 order). */
    static byte[] pack(byte[] indices) {
        byte[] packed = new byte[(indices.length + 1) / 2];
        for (int i = 0; i < indices.length; i++) {
            packed[i / 2] |= (byte) ((indices[i] & 0x0f) << (4 * (i % 2)));
        }
        return packed;
    }

    /**
     * The load-time unpacking: Cast to int32, high = p div 16, low = p - 16 high (opset 7; Mod and the
     * bitwise operators need 10 and 18), interleaved by Concat of
     * [m, 1] columns, flattened, cut to n when n is odd, and shaped as the weight (int32 indices).
     */
    private static void unpack(OnnxGraph graph, java.util.function.Consumer<TensorProto> add, String base,
            String packed, String out, int n, long[] dims, long opset) {
        long m = (n + 1) / 2;
        String p = graph.uniqueName(base + "_cluster_packed32");
        cast(graph, base, packed, p, TensorProto.DataType.INT32_VALUE);
        String sixteen = graph.uniqueName(base + "_cluster_16");
        add.accept(Tensors.int32s(sixteen, new long[0], new int[] {16}));
        String column = graph.uniqueName(base + "_cluster_column");
        add.accept(Tensors.int64s(column, new long[] {2}, new long[] {m, 1}));
        String high = graph.uniqueName(base + "_cluster_high");
        String highTimes16 = graph.uniqueName(base + "_cluster_high16");
        String low = graph.uniqueName(base + "_cluster_low");
        graph.addNode(NodeProto.newBuilder().setOpType("Div").setName(graph.uniqueName(base + "_cluster_Div"))
                .addInput(p).addInput(sixteen).addOutput(high).build());
        graph.addNode(NodeProto.newBuilder().setOpType("Mul").setName(graph.uniqueName(base + "_cluster_Mul"))
                .addInput(high).addInput(sixteen).addOutput(highTimes16).build());
        graph.addNode(NodeProto.newBuilder().setOpType("Sub").setName(graph.uniqueName(base + "_cluster_Sub"))
                .addInput(p).addInput(highTimes16).addOutput(low).build());
        String[] halves = new String[2];
        for (int h = 0; h < 2; h++) {
            String half = h == 0 ? low : high;
            halves[h] = graph.uniqueName(half + "_column");
            graph.addNode(NodeProto.newBuilder().setOpType("Reshape").setName(graph.uniqueName(base + "_cluster_Reshape"))
                    .addInput(half).addInput(column).addOutput(halves[h]).build());
        }
        String pairs = graph.uniqueName(base + "_cluster_pairs");
        graph.addNode(NodeProto.newBuilder().setOpType("Concat").setName(graph.uniqueName(base + "_cluster_Concat"))
                .addInput(halves[0]).addInput(halves[1]).addOutput(pairs).addAttribute(WeightLayers.intAttr("axis", 1))
                .build());
        String flat = pairs;
        if (n % 2 == 1) {
            String whole = graph.uniqueName(base + "_cluster_flat");
            String flatShape = graph.uniqueName(base + "_cluster_flat_shape");
            add.accept(Tensors.int64s(flatShape, new long[] {1}, new long[] {2 * m}));
            graph.addNode(NodeProto.newBuilder().setOpType("Reshape").setName(graph.uniqueName(base + "_cluster_Reshape"))
                    .addInput(pairs).addInput(flatShape).addOutput(whole).build());
            flat = graph.uniqueName(base + "_cluster_cut");
            NodeProto.Builder slice = NodeProto.newBuilder().setOpType("Slice")
                    .setName(graph.uniqueName(base + "_cluster_Slice")).addInput(whole).addOutput(flat);
            if (opset >= 10) {
                String starts = graph.uniqueName(base + "_cluster_start");
                String ends = graph.uniqueName(base + "_cluster_end");
                add.accept(Tensors.int64s(starts, new long[] {1}, new long[] {0}));
                add.accept(Tensors.int64s(ends, new long[] {1}, new long[] {n}));
                slice.addInput(starts).addInput(ends);
            } else {
                slice.addAttribute(ints("starts", 0)).addAttribute(ints("ends", n));
            }
            graph.addNode(slice.build());
        }
        String shape = graph.uniqueName(base + "_cluster_shape");
        add.accept(Tensors.int64s(shape, new long[] {dims.length}, dims));
        graph.addNode(NodeProto.newBuilder().setOpType("Reshape").setName(graph.uniqueName(base + "_cluster_Reshape"))
                .addInput(flat).addInput(shape).addOutput(out).build());
    }

    private static dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto ints(String name, long value) {
        return dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName(name)
                .setType(dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.AttributeType.INTS).addInts(value).build();
    }

    private static void cast(OnnxGraph graph, String base, String in, String out, int to) {
        graph.addNode(NodeProto.newBuilder().setOpType("Cast").setName(graph.uniqueName(base + "_cluster_Cast"))
                .addInput(in).addOutput(out).addAttribute(WeightLayers.intAttr("to", to)).build());
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
