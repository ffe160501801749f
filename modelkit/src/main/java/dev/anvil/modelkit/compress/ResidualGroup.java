package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Convs whose outputs meet at a residual Add, which must lose the same output channels together: every tensor
 * that carries those channels (the producers' outputs, through channel-wise ops, into and out of the Add) is
 * followed both ways. Backwards each must start at a Conv (group 1, its own weights); forwards each reader must be
 * a channel-wise op, another Add of the same channels, or a Conv (group 1) that can lose those input channels.
 * Anything else (a graph input or output, a Flatten into a Gemm, a Concat) makes the group impossible, with the
 * reason.
 *
 * @param producers Convs whose output channels go, in graph order
 * @param between   channel-wise ops on the way (BatchNormalization's parameters lose the channels too)
 * @param consumers Convs whose input channels go (a producer may be one as well)
 * @param outlets   per producer, where its channels enter the join (after its own channel-wise ops)
 */
record ResidualGroup(List<NodeProto> producers, List<NodeProto> between, List<NodeProto> consumers,
        Map<String, String> outlets) {
    private static final Set<String> JOINS = Set.of("Add", "Sum");

    /** A group, or why there is none. */
    record Found(ResidualGroup group, String reason) {}

    /** The group of {@code add}, the element-wise join that {@code producer}'s output reaches. */
    static Found of(OnnxGraph graph, NodeProto add, Set<String> channelwise) {
        if (!JOINS.contains(add.getOpType())) {
            return new Found(null, add.getOpType() + " is not a sum, so its inputs cannot lose channels together");
        }
        Set<String> space = new LinkedHashSet<>();
        Map<String, NodeProto> producers = new LinkedHashMap<>();
        Map<String, NodeProto> between = new LinkedHashMap<>();
        Map<String, NodeProto> consumers = new LinkedHashMap<>();
        Deque<String> work = new ArrayDeque<>(add.getInputList());
        work.add(add.getOutput(0));
        while (!work.isEmpty()) {
            String t = work.pop();
            if (!space.add(t)) {
                continue;
            }
            if (graph.initializer(t).isPresent()) {
                return new Found(null, "a constant '" + t + "' is added to it");
            }
            if (graph.isGraphOutput(t)) {
                return new Found(null, "'" + t + "' is a model output");
            }
            NodeProto p = graph.producer(t).orElse(null);
            if (p == null) {
                return new Found(null, "the partner '" + t + "' is a graph input, whose channels cannot go");
            }
            String op = p.getOpType();
            if (channelwise.contains(op)) {
                between.put(p.getName(), p);
                work.add(p.getInput(0));
            } else if (JOINS.contains(op)) {
                work.addAll(p.getInputList());
            } else if (prunableConv(graph, p)) {
                producers.put(p.getName(), p);
            } else {
                return new Found(null, "the channels of '" + t + "' come from " + op + " '" + p.getName()
                        + "', which cannot lose them");
            }
            for (NodeProto r : graph.consumers(t)) {
                String rop = r.getOpType();
                if (channelwise.contains(rop) && r.getInput(0).equals(t)) {
                    between.put(r.getName(), r);
                    work.add(r.getOutput(0));
                } else if (JOINS.contains(rop)) {
                    work.addAll(r.getInputList());
                    work.add(r.getOutput(0));
                } else if (prunableConv(graph, r) && r.getInput(0).equals(t)) {
                    consumers.put(r.getName(), r);
                } else {
                    return new Found(null, "'" + t + "' also feeds " + rop + " '" + r.getName()
                            + "', which cannot lose the channels");
                }
            }
        }
        if (producers.size() < 2) {
            return new Found(null, "only one Conv produces its channels");
        }
        Map<String, String> outlets = new LinkedHashMap<>();
        for (NodeProto p : producers.values()) {
            String t = p.getOutput(0);
            while (graph.consumers(t).size() == 1 && between.containsKey(graph.consumers(t).get(0).getName())) {
                t = graph.consumers(t).get(0).getOutput(0);
            }
            outlets.put(p.getName(), t);
        }
        List<NodeProto> ordered = new ArrayList<>();
        for (NodeProto n : graph.nodes()) {
            if (producers.containsKey(n.getName())) {
                ordered.add(n);
            }
        }
        return new Found(new ResidualGroup(ordered, List.copyOf(between.values()), List.copyOf(consumers.values()),
                outlets), null);
    }

    /** A Conv with group 1 and its own float weights (and bias), so its output channels can go. */
    private static boolean prunableConv(OnnxGraph graph, NodeProto n) {
        if (!n.getOpType().equals("Conv") || WeightLayers.intAttr(n, "group", 1) != 1 || n.getInputCount() < 2) {
            return false;
        }
        TensorProto w = graph.initializer(n.getInput(1)).orElse(null);
        return w != null && w.getDataType() == TensorProto.DataType.FLOAT_VALUE && Tensors.dims(w).length >= 3
                && graph.consumers(n.getInput(1)).size() == 1
                && (n.getInputCount() < 3 || n.getInput(2).isEmpty() || graph.consumers(n.getInput(2)).size() == 1);
    }
}
