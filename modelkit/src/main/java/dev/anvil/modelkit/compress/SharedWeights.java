package dev.anvil.modelkit.compress;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtSessions;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads back the weights {@link WeightClusterer} stored as shared values, in every form it writes: a layer whose
 * weight input is {@code Gather(codebook, indices [+ channel offsets])} or, for an evenly spaced codebook,
 * {@code Mul(Sub(Cast<float>(indices), zero point), scale)}, where the indices are a uint8 initializer (one per
 * byte, possibly through a Cast) or the output of a load-time unpacking of packed indices (any chain of
 * standard operators over initializers only, which is evaluated here in ONNX Runtime exactly as at load). Other
 * rewrites (the quantiser, pruning) see only float initializers, so {@link #unfold} turns such weights back into
 * one (the same values, so the model computes the same thing), and {@code codebook_from} reads a clustering from
 * here to impose it again after fine-tuning.
 */
public final class SharedWeights {
    /**
     * One layer's shared weight.
     *
     * @param indices per weight, the position in {@code codebook} (channel offsets already added)
     * @param clusters the codebook size per channel (k)
     * @param channels how many codebooks are concatenated in {@code codebook} (1: per tensor)
     * @param nodes the nodes that rebuild the weight, consumers before producers
     * @param packedBits the width b of the packed bit stream the indices are unpacked from at load, or 0 when they
     *                   are stored one per byte
     * @param scales per codebook, the scale of an evenly spaced codebook kept as a scale and zero point; null for a
     *               float codebook (Gather)
     * @param zeroPoints per codebook, the zero point beside {@code scales}; null for a float codebook
     */
    public record Shared(String layer, String opType, long[] dims, float[] codebook, int[] indices, int clusters,
            int channels, List<String> nodes, int packedBits, float[] scales, float[] zeroPoints) {
        /** Whether the file keeps the indices as a b-bit stream rather than one per byte. */
        public boolean packed() {
            return packedBits > 0;
        }

        /** The float weight the graph rebuilds at load. */
        public float[] values() {
            float[] w = new float[indices.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = codebook[indices[i]];
            }
            return w;
        }
    }

    /** Operators an index unpacking may use (what {@link WeightClusterer} writes, now or before). */
    private static final Set<String> UNPACKING_OPS = Set.of("Cast", "Reshape", "Mul", "Div", "Sub", "Add", "ReduceSum",
            "Slice", "Concat", "Mod", "Split");

    private SharedWeights() {}

    /** The model's shared weights by layer name, in graph order; names unnamed nodes as {@link WeightLayers} does. */
    public static Map<String, Shared> of(OnnxModel model) {
        OnnxGraph graph = model.graph();
        graph.nameNodes();
        Map<String, TensorProto> init = graph.initializers();
        Map<String, Shared> out = new LinkedHashMap<>();
        for (NodeProto node : graph.nodes()) {
            if (!WeightLayers.OP_TYPES.contains(node.getOpType()) || node.getInputCount() < 2) {
                continue;
            }
            read(model, init, node).ifPresent(s -> out.put(s.layer(), s));
        }
        return out;
    }

    /**
     * Integer indices of some shape, read from an initializer or evaluated from the chain that unpacks them
     * ({@code packedBits} the stream's width, 0 for one index per byte).
     */
    private record Indices(long[] dims, long[] values, int packedBits) {}

    private static Optional<Shared> read(OnnxModel model, Map<String, TensorProto> init, NodeProto layer) {
        OnnxGraph graph = model.graph();
        NodeProto rebuild = graph.producer(layer.getInput(1)).orElse(null);
        if (rebuild == null || init.containsKey(layer.getInput(1))) {
            return Optional.empty();
        }
        if (rebuild.getOpType().equals("Gather")) {
            return gather(model, init, layer, rebuild);
        }
        if (rebuild.getOpType().equals("Mul")) {
            return scaleZeroPoint(model, init, layer, rebuild);
        }
        return Optional.empty();
    }

    private static Optional<Shared> gather(OnnxModel model, Map<String, TensorProto> init, NodeProto layer,
            NodeProto gather) {
        OnnxGraph graph = model.graph();
        if (gather.getInputCount() != 2 || !init.containsKey(gather.getInput(0))
                || WeightLayers.intAttr(gather, "axis", 0) != 0) {
            return Optional.empty();
        }
        TensorProto book = init.get(gather.getInput(0));
        if (book.getDataType() != TensorProto.DataType.FLOAT_VALUE || Tensors.dims(book).length != 1) {
            return Optional.empty();
        }
        String indexTensor = gather.getInput(1);
        int[] offsets = null;
        long[] offsetDims = null;
        NodeProto source = graph.producer(indexTensor).orElse(null);
        if (source != null && source.getOpType().equals("Add") && init.containsKey(source.getInput(1))) {
            TensorProto off = init.get(source.getInput(1));
            offsets = toInts(Tensors.toLongs(off));
            offsetDims = Tensors.dims(off);
            indexTensor = source.getInput(0);
        }
        if (init.containsKey(indexTensor)) {
            return Optional.empty(); // the indices come through a Cast (or an unpacking), never straight from a file
        }
        Optional<Indices> read = indices(model, init, indexTensor);
        if (read.isEmpty()) {
            return Optional.empty();
        }
        long[] dims = read.get().dims();
        int[] indices = toInts(read.get().values());
        if (offsets != null) {
            if (offsetDims.length != dims.length) {
                return Optional.empty();
            }
            for (int i = 0; i < indices.length; i++) {
                indices[i] += offsets[broadcastIndex(i, dims, offsetDims)];
            }
        }
        float[] codebook = Tensors.toFloats(book);
        for (int i : indices) {
            if (i < 0 || i >= codebook.length) {
                return Optional.empty();
            }
        }
        int channels = offsets == null ? 1 : offsets.length;
        return Optional.of(new Shared(layer.getName(), layer.getOpType(), dims, codebook, indices,
                codebook.length / channels, channels, rebuildNodes(graph, layer.getInput(1)), read.get().packedBits(),
                null, null));
    }

    /** (Cast&lt;float&gt;(q) - zero point) × scale, per tensor or per channel: an evenly spaced codebook. */
    private static Optional<Shared> scaleZeroPoint(OnnxModel model, Map<String, TensorProto> init, NodeProto layer,
            NodeProto mul) {
        OnnxGraph graph = model.graph();
        if (mul.getInputCount() != 2 || !init.containsKey(mul.getInput(1))) {
            return Optional.empty();
        }
        NodeProto sub = graph.producer(mul.getInput(0)).orElse(null);
        if (sub == null || !sub.getOpType().equals("Sub") || sub.getInputCount() != 2
                || !init.containsKey(sub.getInput(1))) {
            return Optional.empty();
        }
        NodeProto cast = graph.producer(sub.getInput(0)).orElse(null);
        if (cast == null || !cast.getOpType().equals("Cast")
                || WeightLayers.intAttr(cast, "to", 0) != TensorProto.DataType.FLOAT_VALUE) {
            return Optional.empty();
        }
        TensorProto scaleT = init.get(mul.getInput(1));
        TensorProto zeroT = init.get(sub.getInput(1));
        if (scaleT.getDataType() != TensorProto.DataType.FLOAT_VALUE
                || zeroT.getDataType() != TensorProto.DataType.FLOAT_VALUE
                || !Arrays.equals(Tensors.dims(scaleT), Tensors.dims(zeroT))) {
            return Optional.empty();
        }
        String q = cast.getInput(0);
        Optional<Indices> read = init.containsKey(q) && init.get(q).getDataType() == TensorProto.DataType.UINT8_VALUE
                ? Optional.of(new Indices(Tensors.dims(init.get(q)), Tensors.toLongs(init.get(q)), 0))
                : init.containsKey(q) ? Optional.empty() : indices(model, init, q);
        if (read.isEmpty()) {
            return Optional.empty();
        }
        long[] dims = read.get().dims();
        long[] q64 = read.get().values();
        float[] scale = Tensors.toFloats(scaleT);
        float[] zero = Tensors.toFloats(zeroT);
        long[] paramDims = Tensors.dims(scaleT);
        if (paramDims.length != 0 && paramDims.length != dims.length) {
            return Optional.empty();
        }
        long max = 0;
        for (long v : q64) {
            if (v < 0 || v > 255) {
                return Optional.empty();
            }
            max = Math.max(max, v);
        }
        int k = 2;
        while (k < max + 1) {
            k *= 2;
        }
        int channels = scale.length;
        float[] codebook = new float[channels * k];
        for (int c = 0; c < channels; c++) {
            for (int j = 0; j < k; j++) {
                codebook[c * k + j] = ((float) j - zero[c]) * scale[c]; // as Cast, Sub and Mul compute it in float
            }
        }
        int[] indices = new int[q64.length];
        for (int i = 0; i < indices.length; i++) {
            int c = paramDims.length == 0 ? 0 : broadcastIndex(i, dims, paramDims);
            indices[i] = (int) q64[i] + c * k;
        }
        return Optional.of(new Shared(layer.getName(), layer.getOpType(), dims, codebook, indices, k, channels,
                rebuildNodes(graph, layer.getInput(1)), read.get().packedBits(), scale, zero));
    }

    /**
     * The integer indices {@code tensor} holds at load: Cast of a uint8 initializer, read here, or any chain of
     * {@link #UNPACKING_OPS} over initializers only with one Cast to an integer type, run in ONNX Runtime.
     */
    private static Optional<Indices> indices(OnnxModel model, Map<String, TensorProto> init, String tensor) {
        OnnxGraph graph = model.graph();
        NodeProto source = graph.producer(tensor).orElse(null);
        if (source == null) {
            return Optional.empty();
        }
        if (source.getOpType().equals("Cast") && init.containsKey(source.getInput(0))) {
            TensorProto idx = init.get(source.getInput(0));
            if (idx.getDataType() != TensorProto.DataType.UINT8_VALUE) {
                return Optional.empty();
            }
            return Optional.of(new Indices(Tensors.dims(idx), Tensors.toLongs(idx), 0));
        }
        List<NodeProto> chain = new ArrayList<>();
        Set<String> leaves = new java.util.LinkedHashSet<>();
        if (!ancestors(graph, init, tensor, chain, leaves)) {
            return Optional.empty();
        }
        List<NodeProto> casts = chain.stream().filter(n -> n.getOpType().equals("Cast")).toList();
        if (casts.size() != 1 || leaves.stream().noneMatch(l -> init.get(l).getDataType()
                == TensorProto.DataType.UINT8_VALUE)) {
            return Optional.empty();
        }
        int type = (int) WeightLayers.intAttr(casts.get(0), "to", 0);
        if (type != TensorProto.DataType.INT32_VALUE && type != TensorProto.DataType.INT64_VALUE) {
            return Optional.empty();
        }
        return evaluate(model, init, chain, leaves, tensor, type)
                .map(read -> new Indices(read.dims(), read.values(), streamBits(init, leaves, read.values())));
    }

    /**
     * The width b of a packed stream: {@link WeightClusterer}'s stream is a uint8 [g, b] initializer (8 indices in
     * b bytes); for another unpacking (the earlier per-layer nibbles), the fewest bits that hold the largest index.
     */
    private static int streamBits(Map<String, TensorProto> init, Set<String> leaves, long[] values) {
        for (String leaf : leaves) {
            TensorProto t = init.get(leaf);
            long[] dims = Tensors.dims(t);
            if (t.getDataType() == TensorProto.DataType.UINT8_VALUE && dims.length == 2 && dims[1] >= 2
                    && dims[1] <= 7) {
                return (int) dims[1];
            }
        }
        long max = Arrays.stream(values).max().orElse(0);
        return Math.max(2, 64 - Long.numberOfLeadingZeros(max));
    }

    /** Collects the nodes producing {@code tensor}; false when anything but an initializer or such a node feeds it. */
    private static boolean ancestors(OnnxGraph graph, Map<String, TensorProto> init, String tensor, List<NodeProto> chain,
            Set<String> leaves) {
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(tensor));
        Set<String> seen = new java.util.HashSet<>();
        while (!todo.isEmpty()) {
            String t = todo.pop();
            if (t.isEmpty() || !seen.add(t)) {
                continue;
            }
            if (init.containsKey(t)) {
                leaves.add(t);
                continue;
            }
            NodeProto n = graph.producer(t).orElse(null);
            if (n == null || !UNPACKING_OPS.contains(n.getOpType()) || chain.size() > 64) {
                return false;
            }
            if (!chain.contains(n)) {
                chain.add(n);
            }
            n.getInputList().forEach(todo::push);
        }
        return true;
    }

    /** Runs the unpacking chain alone in ONNX Runtime (basic optimisation, as at load) and reads its output. */
    private static Optional<Indices> evaluate(OnnxModel model, Map<String, TensorProto> init, List<NodeProto> chain,
            Set<String> leaves, String tensor, int type) {
        List<NodeProto> ordered = model.graph().nodes().stream().filter(chain::contains).toList();
        GraphProto.Builder g = GraphProto.newBuilder().setName("unpack");
        ordered.forEach(g::addNode);
        leaves.forEach(l -> g.addInitializer(init.get(l)));
        g.addOutput(ValueInfoProto.newBuilder().setName(tensor).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type))));
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(model.proto().getIrVersion())
                .addAllOpsetImport(model.proto().getOpsetImportList()).setGraph(g);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
            try (OrtSession session = OrtSessions.open(env, m.build(), so);
                    OrtSession.Result r = session.run(Map.of())) {
                OnnxTensor out = (OnnxTensor) r.get(0);
                long[] dims = out.getInfo().getShape();
                long[] values = new long[Math.toIntExact(Tensors.elementCount(dims))];
                if (type == TensorProto.DataType.INT64_VALUE) {
                    out.getLongBuffer().get(values);
                } else {
                    java.nio.IntBuffer ints = out.getIntBuffer();
                    for (int i = 0; i < values.length; i++) {
                        values[i] = ints.get(i);
                    }
                }
                return Optional.of(new Indices(dims, values, 0));
            }
        } catch (OrtException e) {
            return Optional.empty(); // not an unpacking ONNX Runtime can run: not a shared weight
        }
    }

    /** The nodes between the weight and the initializers it is rebuilt from, consumers first. */
    private static List<String> rebuildNodes(OnnxGraph graph, String weight) {
        Set<String> names = new java.util.HashSet<>();
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(weight));
        while (!todo.isEmpty()) {
            String t = todo.pop();
            graph.producer(t).ifPresent(n -> {
                if (names.add(n.getName())) {
                    n.getInputList().forEach(todo::push);
                }
            });
        }
        List<String> ordered = new ArrayList<>(graph.nodes().stream().map(NodeProto::getName).filter(names::contains)
                .toList());
        java.util.Collections.reverse(ordered);
        return List.copyOf(ordered);
    }

    /**
     * Replaces every shared weight by a float initializer holding the values the graph rebuilt, and drops the
     * nodes that rebuilt it; returns the layers so unfolded. The model computes exactly what it did.
     */
    public static List<String> unfold(OnnxModel model) {
        Map<String, Shared> shared = of(model);
        OnnxGraph graph = model.graph();
        for (Shared s : shared.values()) {
            NodeProto.Builder layer = WeightLayers.nodeBuilder(graph, s.layer());
            String rebuilt = layer.getInput(1);
            String name = graph.uniqueName(rebuilt.endsWith("_shared")
                    ? rebuilt.substring(0, rebuilt.length() - "_shared".length()) : rebuilt + "_unfolded");
            WeightLayers.addInitializer(model, Tensors.floats(name, s.dims(), s.values()));
            layer.setInput(1, name);
            removeUnread(graph, s.nodes());
        }
        if (!shared.isEmpty()) {
            graph.removeUnusedInitializers();
        }
        return List.copyOf(shared.keySet());
    }

    /** Removes the named nodes, in order, each once nothing reads its outputs any more. */
    static void removeUnread(OnnxGraph graph, List<String> names) {
        for (String name : names) {
            var list = graph.proto().getNodeList();
            for (int i = 0; i < list.size(); i++) {
                NodeProto n = list.get(i);
                if (n.getName().equals(name) && n.getOutputList().stream()
                        .allMatch(o -> graph.consumers(o).isEmpty() && !graph.isGraphOutput(o))) {
                    graph.proto().removeNode(i);
                    break;
                }
            }
        }
    }

    private static int broadcastIndex(int flat, long[] dims, long[] small) {
        int out = 0;
        long rest = flat;
        long[] coords = new long[dims.length];
        for (int d = dims.length - 1; d >= 0; d--) {
            coords[d] = rest % dims[d];
            rest /= dims[d];
        }
        for (int d = 0; d < dims.length; d++) {
            out = (int) (out * small[d] + (small[d] == 1 ? 0 : coords[d]));
        }
        return out;
    }

    private static int[] toInts(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.toIntExact(v[i]);
        }
        return out;
    }
}
