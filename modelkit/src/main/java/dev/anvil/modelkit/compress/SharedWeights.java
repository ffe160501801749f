package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads back the weights {@link WeightClusterer} stored as shared values: a layer whose weight input is
 * {@code Gather(codebook, Cast(uint8 indices) [+ channel offsets])}, all initializers. Other rewrites (the
 * quantiser, pruning) see only float initializers, so {@link #unfold} turns such weights back into one (the
 * same values, so the model computes the same thing), and {@code codebook_from} reads a clustering from here
 * to impose it again after fine-tuning.
 */
public final class SharedWeights {
    /**
     * One layer's shared weight.
     *
     * @param indices per weight, the position in {@code codebook} (channel offsets already added)
     * @param clusters the codebook size per channel (k)
     * @param channels how many codebooks are concatenated in {@code codebook} (1: per tensor)
     */
    public record Shared(String layer, String opType, long[] dims, float[] codebook, int[] indices, int clusters,
            int channels, List<String> nodes) {
        /** The float weight the graph rebuilds at load. */
        public float[] values() {
            float[] w = new float[indices.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = codebook[indices[i]];
            }
            return w;
        }
    }

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
            read(graph, init, node).ifPresent(s -> out.put(s.layer(), s));
        }
        return out;
    }

    private static Optional<Shared> read(OnnxGraph graph, Map<String, TensorProto> init, NodeProto layer) {
        Optional<NodeProto> gather = graph.producer(layer.getInput(1)).filter(n -> n.getOpType().equals("Gather"));
        if (gather.isEmpty() || gather.get().getInputCount() != 2 || !init.containsKey(gather.get().getInput(0))
                || WeightLayers.intAttr(gather.get(), "axis", 0) != 0) {
            return Optional.empty();
        }
        TensorProto book = init.get(gather.get().getInput(0));
        if (book.getDataType() != TensorProto.DataType.FLOAT_VALUE || Tensors.dims(book).length != 1) {
            return Optional.empty();
        }
        List<String> nodes = new ArrayList<>(List.of(gather.get().getName()));
        NodeProto source = graph.producer(gather.get().getInput(1)).orElse(null);
        int[] offsets = null;
        long[] offsetDims = null;
        if (source != null && source.getOpType().equals("Add") && init.containsKey(source.getInput(1))) {
            TensorProto off = init.get(source.getInput(1));
            offsets = toInts(Tensors.toLongs(off));
            offsetDims = Tensors.dims(off);
            nodes.add(source.getName());
            source = graph.producer(source.getInput(0)).orElse(null);
        }
        if (source == null || !source.getOpType().equals("Cast") || !init.containsKey(source.getInput(0))) {
            return Optional.empty();
        }
        TensorProto idx = init.get(source.getInput(0));
        if (idx.getDataType() != TensorProto.DataType.UINT8_VALUE) {
            return Optional.empty();
        }
        nodes.add(source.getName());
        long[] dims = Tensors.dims(idx);
        int[] indices = toInts(Tensors.toLongs(idx));
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
                codebook.length / channels, channels, List.copyOf(nodes)));
    }

    /**
     * Replaces every shared weight by a float initializer holding the values the graph rebuilt, and drops the
     * Cast/Add/Gather that rebuilt it; returns the layers so unfolded. The model computes exactly what it did.
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
