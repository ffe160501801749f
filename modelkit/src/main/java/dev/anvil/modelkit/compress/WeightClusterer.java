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
 * its own codebook and an Add of per-channel offsets picks it out of the concatenated codebooks. With packing, the
 * indices of all layers of one width b are kept as one b-bit stream and unpacked at load ({@link #writeStream}),
 * so an index costs b bits instead of 8.
 */
public final class WeightClusterer {

    private WeightClusterer() {}

    /** Clusters in place and reports per layer. */
    public static ClusterReport cluster(OnnxModel model, ClusterOptions options) {
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        WeightLayers.requireKnown(layers, options.skip(), "skip");
        WeightLayers.requireKnown(layers, options.layerBits().keySet(), "layers");
        OnnxGraph graph = model.graph();
        List<ClusterReport.Layer> rows = new ArrayList<>();
        long before = 0;
        long after = 0;
        long opset = opset(model);
        // packed layers: their indices, by bit width, written as one stream per width after the loop
        java.util.Map<Integer, List<Packed>> streams = new java.util.TreeMap<>();
        for (WeightLayers.Layer layer : layers) {
            int bits = options.bitsOf(layer.name());
            int k = 1 << bits;
            boolean packed = options.pack() && bits < 8 && opset >= 7;
            long n = layer.params();
            long floatBytes = 4 * n;
            before += floatBytes;
            NodeProto node = graph.nodes().stream().filter(x -> x.getName().equals(layer.name())).findFirst().orElseThrow();
            int axis = channelAxis(node, layer.dims().length);
            int channels = options.perChannel() ? (int) layer.dims()[axis] : 1;
            long indexBytes = packed ? bits * ((n + 7) / 8) : n;
            long clusteredBytes = indexBytes + 4L * k * channels + (channels > 1 ? 4L * channels : 0); // Gather
            String leftAlone = options.skip().contains(layer.name()) ? "skipped"
                    : clusteredBytes >= floatBytes ? "too small: indices and codebook would not be smaller" : null;
            if (leftAlone != null) {
                after += floatBytes; // (clustered layers are added up once their streams are written)
                rows.add(new ClusterReport.Layer(layer.name(), layer.opType(), n, 0, floatBytes, floatBytes, 32, 0,
                        leftAlone, ClusterReport.FLOAT, false, 32));
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
                    centroids = fit(slice, k, options, c);
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
            boolean dequantize = Arrays.stream(grids).allMatch(g -> g != null) && opset >= 7;
            String packedIndices = packed ? graph.uniqueName(layer.weight() + "_q") : null;
            long stored = rewrite(model, node.getName(), layer, indices, codebooks, channels, axis, k,
                    dequantize ? grids : null, packedIndices);
            if (packed) {
                streams.computeIfAbsent(bits, b -> new ArrayList<>()).add(new Packed(rows.size(), packedIndices,
                        layer.dims(), indices));
            }
            rows.add(new ClusterReport.Layer(layer.name(), layer.opType(), n, used, floatBytes, stored,
                    8.0 * stored / n, squaredError / n, null,
                    dequantize ? ClusterReport.SCALE_ZERO_POINT : ClusterReport.GATHER, packed, bits));
        }
        addStreams(model, streams, rows, opset);
        for (ClusterReport.Layer l : rows) {
            after += l.leftAlone() == null ? l.bytesAfter() : 0;
        }
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.clustering", (options.uniform() ? "uniform " : "k-means ") + options.clusters() + " ("
                + options.bits()
                + " bits), " + (options.uniform() ? "min to max" : options.init().name().toLowerCase())
                + (options.perChannel() ? ", per channel" : ", per tensor") + ", seed " + options.seed()
                + (options.layerBits().isEmpty() ? "" : ", bits by layer " + new java.util.TreeMap<>(options.layerBits()))
                + (options.zeroCentroid() ? ", zero kept as a shared value" : "") + (options.pack() ? ", packed" : ""));
        return new ClusterReport(rows, options.bits(), before, after);
    }

    /**
     * Imposes a clustered reference model's indices on {@code model} (typically that model after fine-tuning): every
     * layer the reference shares is shared again with the reference's indices, and with its codebook as it was
     * ({@code refit} false: the model rebuilds exactly the reference's weights) or refitted, each shared value the
     * mean of the weights the fine-tuning left in its cluster (Deep Compression's centroid update). A model whose
     * weights are themselves shared is unfolded first. Layers are matched by name and must have the reference's shape.
     * The reference's index storage is kept: a layer whose indices it packed at b bits is packed at b bits again, in
     * one stream per width as {@link #cluster} writes it, and a layer it kept one index per byte stays so; with the
     * codebook kept, one the reference stored as a scale and zero point is stored so again.
     *
     * @throws IllegalArgumentException when the reference shares no weight, or a layer is missing or reshaped
     */
    public static ClusterReport applyCodebook(OnnxModel model, OnnxModel reference, boolean refit) {
        java.util.Map<String, SharedWeights.Shared> shared = SharedWeights.of(reference);
        if (shared.isEmpty()) {
            throw new IllegalArgumentException("the codebook_from model has no clustered weights (Gather of a codebook, or"
                    + " a scale and zero point, by uint8 or packed indices); give the output of a cluster task");
        }
        SharedWeights.unfold(model);
        // the unfolded rebuilds' names (the stream q<b>, <weight>_q, ...) are free again: reusing them keeps the
        // file the size of the reference's
        model.graph().forgetRemovedNames();
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        java.util.Map<String, WeightLayers.Layer> byName = new java.util.LinkedHashMap<>();
        layers.forEach(l -> byName.put(l.name(), l));
        OnnxGraph graph = model.graph();
        List<ClusterReport.Layer> rows = new ArrayList<>();
        long before = 0;
        long after = 0;
        int bits = 0;
        long opset = opset(model);
        java.util.Map<Integer, List<Packed>> streams = new java.util.TreeMap<>();
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
            // the reference's storage is kept: a layer it packed at b bits goes into this model's b-bit stream, in
            // the reference's layer order, so the file is as small as the reference's
            boolean packed = s.packedBits() >= 2 && s.packedBits() <= 7 && opset >= 7;
            int layerBits = packed ? s.packedBits() : 32 - Integer.numberOfLeadingZeros(s.clusters() - 1);
            String packedIndices = packed ? graph.uniqueName(layer.weight() + "_q") : null;
            Grid[] grids = refit ? null : grids(s); // refitted values are no longer evenly spaced
            boolean dequantize = grids != null && opset >= 7;
            long bytes = rewrite(model, node.getName(), layer, local, book, s.channels(), axis, s.clusters(),
                    dequantize ? grids : null, packedIndices);
            if (packed) {
                streams.computeIfAbsent(layerBits, b -> new ArrayList<>()).add(new Packed(rows.size(), packedIndices,
                        layer.dims(), local));
            }
            long n = layer.params();
            before += 4 * n;
            bits = Math.max(bits, layerBits);
            rows.add(new ClusterReport.Layer(layer.name(), layer.opType(), n, s.clusters(), 4 * n, bytes,
                    8.0 * bytes / n, squaredError / n, null,
                    dequantize ? ClusterReport.SCALE_ZERO_POINT : ClusterReport.GATHER, packed, layerBits));
        }
        addStreams(model, streams, rows, opset);
        for (ClusterReport.Layer l : rows) {
            after += l.bytesAfter();
        }
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.clustering", "codebook and indices of an earlier clustering"
                + (refit ? ", shared values refitted to the weights" : ", shared values kept")
                + (streams.isEmpty() ? "" : ", packed as the earlier one was"));
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

    /**
     * k-means centroids (ascending) of one tensor or channel; with {@code zeroCentroid} and exact zeros among the
     * weights, 0 is one of them and the other k - 1 are fitted to the non-zero weights.
     */
    private static float[] fit(float[] slice, int k, ClusterOptions options, int c) {
        int zeros = 0;
        for (float v : slice) {
            zeros += v == 0f ? 1 : 0;
        }
        if (!options.zeroCentroid() || zeros == 0 || zeros == slice.length) {
            return KMeans1d.fit(slice, k, options.init(), options.seed() + c, options.iterations());
        }
        float[] nonZero = new float[slice.length - zeros];
        int j = 0;
        for (float v : slice) {
            if (v != 0f) {
                nonZero[j++] = v;
            }
        }
        float[] fitted = KMeans1d.fit(nonZero, k - 1, options.init(), options.seed() + c, options.iterations());
        float[] all = Arrays.copyOf(fitted, fitted.length + 1);
        all[fitted.length] = 0f;
        Arrays.sort(all);
        return distinct(all); // a fitted centroid of exactly 0 would repeat the fixed one
    }

    private static float[] distinct(float[] sorted) {
        float[] out = new float[sorted.length];
        int n = 0;
        for (float v : sorted) {
            if (n == 0 || Float.compare(out[n - 1], v) != 0) {
                out[n++] = v;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * The reference layer's scale and zero point per codebook, when it kept an evenly spaced codebook so (the zero
     * points whole numbers, as {@link #cluster} writes them); else null.
     */
    private static Grid[] grids(SharedWeights.Shared s) {
        if (s.scales() == null || s.scales().length != s.channels()) {
            return null;
        }
        Grid[] grids = new Grid[s.channels()];
        for (int c = 0; c < grids.length; c++) {
            float zp = s.zeroPoints()[c];
            if (zp != Math.rint(zp) || zp < 0 || zp > 255) {
                return null;
            }
            grids[c] = new Grid(s.scales()[c], (int) zp);
        }
        return grids;
    }

    /** Writes one stream per width and adds each packed layer's share of it to its report row. */
    private static void addStreams(OnnxModel model, java.util.Map<Integer, List<Packed>> streams,
            List<ClusterReport.Layer> rows, long opset) {
        for (java.util.Map.Entry<Integer, List<Packed>> e : streams.entrySet()) {
            long[] shares = writeStream(model, e.getKey(), e.getValue(), opset);
            for (int j = 0; j < shares.length; j++) {
                int row = e.getValue().get(j).row();
                ClusterReport.Layer l = rows.get(row);
                long bytes = l.bytesAfter() + shares[j];
                rows.set(row, new ClusterReport.Layer(l.name(), l.opType(), l.params(), l.clusters(), l.bytesBefore(),
                        bytes, 8.0 * bytes / l.params(), l.meanSquaredError(), null, l.storage(), true, l.bits()));
            }
        }
    }

    /** A packed layer's indices, waiting for its bit width's stream: {@code tensor} is where they are unpacked to. */
    private record Packed(int row, String tensor, long[] dims, byte[] indices) {}

    /**
     * Rewrites the layer's weight and returns the bytes its new initializers take in the file; with
     * {@code packedIndices} the indices are not stored here but read from that (int64) tensor, which
     * {@link #writeStream} produces, else they are one uint8 per weight.
     */
    private static long rewrite(OnnxModel model, String nodeName, WeightLayers.Layer layer, byte[] indices,
            float[] codebooks, int channels, int axis, int k, Grid[] grids, String packedIndices) {
        boolean packed = packedIndices != null;
        OnnxGraph graph = model.graph();
        String base = layer.weight();
        List<TensorProto> added = new ArrayList<>();
        java.util.function.Consumer<TensorProto> add = t -> {
            WeightLayers.addInitializer(model, t);
            added.add(t);
        };
        String idx = packed ? null : graph.uniqueName(base + "_cluster_idx");
        String idx32 = packed ? packedIndices : graph.uniqueName(base + "_cluster_idx32");
        if (!packed) {
            add.accept(Tensors.bytes(idx, TensorProto.DataType.UINT8, layer.dims(), indices));
            if (grids == null) {
                cast(graph, base, idx, idx32, TensorProto.DataType.INT32_VALUE);
            }
        }
        String rebuilt = graph.uniqueName(base + "_shared");
        if (grids != null) {
            // (q - zero point) × scale in float operators, which ONNX Runtime folds into a float constant; a
            // DequantizeLinear here would be taken for a quantised model and requantised (see docs/compression.md)
            String q = graph.uniqueName(base + (packed ? "_qf" : "_cluster_q"));
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
            String scale = graph.uniqueName(base + (packed ? "_scale" : "_cluster_scale"));
            String zeroPoint = graph.uniqueName(base + (packed ? "_zp" : "_cluster_zero_point"));
            add.accept(Tensors.floats(scale, paramDims, scales));
            add.accept(Tensors.floats(zeroPoint, paramDims, zeroPoints));
            String centred = graph.uniqueName(base + (packed ? "_c" : "_cluster_centred"));
            graph.addNode(NodeProto.newBuilder().setOpType("Sub")
                    .setName(packed ? centred : graph.uniqueName(base + "_cluster_Sub"))
                    .addInput(q).addInput(zeroPoint).addOutput(centred).build());
            graph.addNode(NodeProto.newBuilder().setOpType("Mul")
                    .setName(packed ? rebuilt : graph.uniqueName(base + "_cluster_Mul"))
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
                if (packed) { // the unpacked indices are int64
                    add.accept(Tensors.int64s(off, offsetDims, Arrays.stream(offsets).asLongStream().toArray()));
                } else {
                    add.accept(Tensors.int32s(off, offsetDims, offsets));
                }
                gatherIndices = graph.uniqueName(base + (packed ? "_g" : "_cluster_idx_global"));
                graph.addNode(NodeProto.newBuilder().setOpType("Add")
                        .setName(packed ? gatherIndices : graph.uniqueName(base + "_cluster_Add"))
                        .addInput(idx32).addInput(off).addOutput(gatherIndices).build());
            }
            graph.addNode(NodeProto.newBuilder().setOpType("Gather")
                    .setName(packed ? rebuilt : graph.uniqueName(base + "_cluster_Gather"))
                    .addInput(book).addInput(gatherIndices).addOutput(rebuilt).build());
        }
        WeightLayers.nodeBuilder(graph, nodeName).setInput(1, rebuilt);
        return added.stream().mapToLong(Tensors::storedBytes).sum();
    }

    /**
     * The indices as a b-bit stream, least significant bit first: index i occupies bits b·i … b·i + b - 1, bit j of
     * the stream is bit j % 8 of byte j / 8 (at b = 4 the even index is the low nibble, ONNX's INT4/UINT4 order).
     * The stream is padded to whole groups of 8 indices (b bytes each), the unit the load-time unpacking reads.
     */
    static byte[] pack(byte[] indices, int bits) {
        byte[] packed = new byte[bits * ((indices.length + 7) / 8)];
        for (int i = 0; i < indices.length; i++) {
            int v = indices[i] & 0xff;
            if (v >> bits != 0) {
                throw new IllegalArgumentException("index " + v + " does not fit in " + bits + " bits");
            }
            for (int j = 0; j < bits; j++) {
                long bit = (long) bits * i + j;
                packed[(int) (bit / 8)] |= (byte) (((v >> j) & 1) << (bit % 8));
            }
        }
        return packed;
    }

    /** Reads n b-bit indices back from {@link #pack}'s stream. */
    static int[] unpack(byte[] stream, int bits, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int v = 0;
            for (int j = 0; j < bits; j++) {
                long bit = (long) bits * i + j;
                v |= ((stream[(int) (bit / 8)] >> (bit % 8)) & 1) << j;
            }
            out[i] = v;
        }
        return out;
    }

    /**
     * Writes the indices of every layer packed at {@code bits} as one b-bit stream (uint8 initializer [g, b]: g
     * groups of 8 indices, see {@link #pack}) and the load-time unpacking, with operators that ONNX Runtime's CPU
     * provider runs on int64 and that exist at opset 7 (BitShift needs opset 11, BitwiseAnd 18): Cast to int64,
     * Mul by 256^j and ReduceSum over each row into one 8b-bit word (at most 56 bits), Div by 2^(b·i) for
     * i = 0 … 7 ([g, 8]), the low b bits by Mod 2^b (opset 10; below it x - 2^b · (x div 2^b)), Reshape to
     * [8g], Split into the layers' counts (and the padding), and a Reshape per layer to its weight's shape. All
     * inputs are initializers, so ONNX Runtime folds the chain into constants at load. One stream per width keeps
     * the file small: the unpacking is written once, not once per layer, and its names are short (the stream is
     * {@code q<b>}, its steps {@code q<b>_<letter>}; a layer's indices {@code <weight>_q}). Returns each
     * layer's bytes in the file (its share of the stream and its shape; the first layer also carries the
     * unpacking's constants).
     */
    private static long[] writeStream(OnnxModel model, int bits, List<Packed> layers, long opset) {
        OnnxGraph graph = model.graph();
        List<TensorProto> common = new ArrayList<>();
        java.util.function.Consumer<TensorProto> add = t -> {
            WeightLayers.addInitializer(model, t);
            common.add(t);
        };
        int total = 0;
        for (Packed l : layers) {
            total += l.indices().length;
        }
        byte[] all = new byte[total];
        int at = 0;
        for (Packed l : layers) {
            System.arraycopy(l.indices(), 0, all, at, l.indices().length);
            at += l.indices().length;
        }
        long g = (total + 7) / 8;
        String p = "q" + bits;
        String stream = graph.uniqueName(p);
        WeightLayers.addInitializer(model, Tensors.bytes(stream, TensorProto.DataType.UINT8, new long[] {g, bits},
                pack(all, bits)));
        String wide = node(graph, "Cast", p + "_i", List.of(stream),
                b -> b.addAttribute(WeightLayers.intAttr("to", TensorProto.DataType.INT64_VALUE)));
        long[] byteWeights = new long[bits];
        for (int j = 0; j < bits; j++) {
            byteWeights[j] = 1L << (8 * j);
        }
        String byteWeight = graph.uniqueName(p + "_B");
        add.accept(Tensors.int64s(byteWeight, new long[] {bits}, byteWeights));
        String weighted = node(graph, "Mul", p + "_m", List.of(wide, byteWeight), b -> { });
        List<String> sumInputs = new ArrayList<>(List.of(weighted));
        if (opset >= 13) {
            String axes = graph.uniqueName(p + "_A");
            add.accept(Tensors.int64s(axes, new long[] {1}, new long[] {1}));
            sumInputs.add(axes);
        }
        String word = node(graph, "ReduceSum", p + "_s", sumInputs, b -> {
            b.addAttribute(WeightLayers.intAttr("keepdims", 1));
            if (opset < 13) {
                b.addAttribute(ints("axes", 1));
            }
        });
        long[] shifts = new long[8];
        for (int i = 0; i < 8; i++) {
            shifts[i] = 1L << (bits * i);
        }
        String shift = graph.uniqueName(p + "_P");
        add.accept(Tensors.int64s(shift, new long[] {8}, shifts));
        String shifted = node(graph, "Div", p + "_d", List.of(word, shift), b -> { });
        String levels = graph.uniqueName(p + "_K");
        add.accept(Tensors.int64s(levels, new long[0], new long[] {1L << bits}));
        String low;
        if (opset >= 10) {
            low = node(graph, "Mod", p + "_r", List.of(shifted, levels), b -> { });
        } else {
            String above = node(graph, "Div", p + "_h", List.of(shifted, levels), b -> { });
            String aboveScaled = node(graph, "Mul", p + "_k", List.of(above, levels), b -> { });
            low = node(graph, "Sub", p + "_r", List.of(shifted, aboveScaled), b -> { });
        }
        String flatShape = graph.uniqueName(p + "_N");
        add.accept(Tensors.int64s(flatShape, new long[] {1}, new long[] {8 * g}));
        String flat = node(graph, "Reshape", p + "_f", List.of(low, flatShape), b -> { });
        long[] counts = new long[layers.size() + (8 * g > total ? 1 : 0)];
        for (int j = 0; j < layers.size(); j++) {
            counts[j] = layers.get(j).indices().length;
        }
        if (counts.length > layers.size()) {
            counts[layers.size()] = 8 * g - total; // the padding of the last group, read by nothing
        }
        List<String> pieces = new ArrayList<>();
        for (Packed l : layers) {
            pieces.add(graph.uniqueName(l.tensor() + "_f"));
        }
        if (counts.length > layers.size()) {
            pieces.add(graph.uniqueName(p + "_p"));
        }
        if (counts.length == 1) {
            pieces.set(0, flat); // one layer, no padding: nothing to split
        } else {
            NodeProto.Builder split = NodeProto.newBuilder().setOpType("Split").setName(graph.uniqueName(p + "_t"))
                    .addInput(flat).addAttribute(WeightLayers.intAttr("axis", 0));
            if (opset >= 13) {
                String sizes = graph.uniqueName(p + "_S");
                add.accept(Tensors.int64s(sizes, new long[] {counts.length}, counts));
                split.addInput(sizes);
            } else {
                dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.Builder a = dev.anvil.modelkit.onnx.proto.OnnxMl
                        .AttributeProto.newBuilder().setName("split")
                        .setType(dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto.AttributeType.INTS);
                for (long c : counts) {
                    a.addInts(c);
                }
                split.addAttribute(a);
            }
            pieces.forEach(split::addOutput);
            graph.addNode(split.build());
        }
        long[] bytes = new long[layers.size()];
        long streamBytes = bits * g;
        long assigned = 0;
        for (int j = 0; j < layers.size(); j++) {
            Packed l = layers.get(j);
            String shape = graph.uniqueName(l.tensor() + "_s");
            TensorProto shapeT = Tensors.int64s(shape, new long[] {l.dims().length}, l.dims());
            WeightLayers.addInitializer(model, shapeT);
            graph.addNode(NodeProto.newBuilder().setOpType("Reshape").setName(l.tensor()).addInput(pieces.get(j))
                    .addInput(shape).addOutput(l.tensor()).build());
            long share = j == layers.size() - 1 ? streamBytes - assigned
                    : (long) Math.ceil((double) streamBytes * l.indices().length / total);
            assigned += share;
            bytes[j] = share + Tensors.storedBytes(shapeT);
        }
        bytes[0] += common.stream().mapToLong(Tensors::storedBytes).sum();
        return bytes;
    }

    /** Adds a node named as its one output, {@code name} made unique, and returns that output. */
    private static String node(OnnxGraph graph, String op, String name, List<String> inputs,
            java.util.function.Consumer<NodeProto.Builder> attributes) {
        String out = graph.uniqueName(name);
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(inputs).addOutput(out);
        attributes.accept(b);
        graph.addNode(b.build());
        return out;
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
