package dev.anvil.modelkit.onnx;

import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Graph utilities over a {@code GraphProto} builder: producers and consumers of a tensor, initializer
 * access, unique names, topological order (also used to restore the order ONNX requires after nodes
 * are appended), and lifting {@code Constant} nodes into initializers.
 *
 * <p>Lookups read the builder as it is at the time of the call, so they stay right across edits.
 *
 * <p>One class of about 440 lines on purpose: every lookup and edit here walks the same builder and the
 * same subgraph-aware collections of names and reads (If/Loop bodies see the outer graph's tensors);
 * split apart, each part would need those walks again.
 */
public final class OnnxGraph {
    private final GraphProto.Builder graph;
    private final Set<String> usedNames = new HashSet<>();
    private boolean namesCollected;

    OnnxGraph(GraphProto.Builder graph) {
        this.graph = graph;
    }

    /** The default ONNX domain is written {@code ""} or {@code "ai.onnx"}; both mean the same. */
    public static String canonicalDomain(String domain) {
        return domain == null || domain.equals("ai.onnx") ? "" : domain;
    }

    public GraphProto.Builder proto() {
        return graph;
    }

    public List<NodeProto> nodes() {
        return graph.getNodeList();
    }

    public Optional<TensorProto> initializer(String name) {
        for (TensorProto t : graph.getInitializerList()) {
            if (t.getName().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public Map<String, TensorProto> initializers() {
        Map<String, TensorProto> byName = new LinkedHashMap<>();
        for (TensorProto t : graph.getInitializerList()) {
            byName.put(t.getName(), t);
        }
        return byName;
    }

    public void addInitializer(TensorProto tensor) {
        reserve(tensor.getName());
        graph.addInitializer(tensor);
    }

    /** Removes initializers that no node (here or in a sub-graph) and no graph output reads any more. */
    public int removeUnusedInitializers() {
        Set<String> read = new HashSet<>();
        collectReads(graph.build(), read);
        for (ValueInfoProto out : graph.getOutputList()) {
            read.add(out.getName());
        }
        int removed = 0;
        for (int i = graph.getInitializerCount() - 1; i >= 0; i--) {
            String name = graph.getInitializer(i).getName();
            if (!read.contains(name)) {
                graph.removeInitializer(i);
                removeGraphInput(name);
                removed++;
            }
        }
        return removed;
    }

    private void removeGraphInput(String name) {
        for (int i = graph.getInputCount() - 1; i >= 0; i--) {
            if (graph.getInput(i).getName().equals(name)) {
                graph.removeInput(i);
            }
        }
    }

    public boolean isGraphInput(String name) {
        return graph.getInputList().stream().anyMatch(v -> v.getName().equals(name))
                && initializer(name).isEmpty();
    }

    public boolean isGraphOutput(String name) {
        return graph.getOutputList().stream().anyMatch(v -> v.getName().equals(name));
    }

    /** The node that writes {@code tensor}, if a node does (graph inputs and initializers have none). */
    public Optional<NodeProto> producer(String tensor) {
        for (NodeProto node : graph.getNodeList()) {
            if (node.getOutputList().contains(tensor)) {
                return Optional.of(node);
            }
        }
        return Optional.empty();
    }

    /** The nodes that read {@code tensor} as a direct input, in graph order. */
    public List<NodeProto> consumers(String tensor) {
        List<NodeProto> readers = new ArrayList<>();
        for (NodeProto node : graph.getNodeList()) {
            if (node.getInputList().contains(tensor)) {
                readers.add(node);
            }
        }
        return readers;
    }

    /** Maps every tensor name to the nodes that read it, in one pass (for rewrites over large graphs). */
    public Map<String, List<Integer>> consumerIndex() {
        Map<String, List<Integer>> index = new HashMap<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            for (String input : graph.getNode(i).getInputList()) {
                if (!input.isEmpty()) {
                    index.computeIfAbsent(input, k -> new ArrayList<>()).add(i);
                }
            }
        }
        return index;
    }

    /** A name no node, tensor or initializer of the graph uses yet, built from {@code base}; reserved on return. */
    public String uniqueName(String base) {
        collectNames();
        String candidate = base;
        int suffix = 1;
        while (usedNames.contains(candidate)) {
            candidate = base + "_" + suffix++;
        }
        usedNames.add(candidate);
        return candidate;
    }

    /**
     * Frees for {@link #uniqueName} the names of nodes and tensors removed since they were collected, so that a
     * rewrite after a removal picks the names a fresh read of the model would. Call it only when every name handed
     * out is in the graph already.
     */
    public void forgetRemovedNames() {
        usedNames.clear();
        namesCollected = false;
    }

    private void reserve(String name) {
        collectNames();
        usedNames.add(name);
    }

    private void collectNames() {
        if (namesCollected) {
            return;
        }
        GraphProto built = graph.build();
        collectNames(built, usedNames);
        namesCollected = true;
    }

    private static void collectNames(GraphProto g, Set<String> names) {
        g.getInputList().forEach(v -> names.add(v.getName()));
        g.getOutputList().forEach(v -> names.add(v.getName()));
        g.getValueInfoList().forEach(v -> names.add(v.getName()));
        g.getInitializerList().forEach(t -> names.add(t.getName()));
        for (NodeProto node : g.getNodeList()) {
            names.add(node.getName());
            names.addAll(node.getInputList());
            names.addAll(node.getOutputList());
            for (AttributeProto a : node.getAttributeList()) {
                if (a.hasG()) {
                    collectNames(a.getG(), names);
                }
                a.getGraphsList().forEach(sub -> collectNames(sub, names));
            }
        }
    }

    /** Gives every unnamed node a unique name ({@code <OpType>_<n>}), so reports and exclusions can name it. */
    public void nameNodes() {
        for (NodeProto.Builder node : graph.getNodeBuilderList()) {
            if (node.getName().isEmpty()) {
                node.setName(uniqueName(node.getOpType()));
            }
        }
    }

    /** Appends a node; call {@link #sortTopologically()} after a batch of insertions. */
    public void addNode(NodeProto node) {
        if (!node.getName().isEmpty()) {
            reserve(node.getName());
        }
        node.getOutputList().forEach(this::reserve);
        graph.addNode(node);
    }

    public boolean hasSubgraphs(NodeProto node) {
        return node.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0);
    }

    /**
     * The nodes in an order where every node comes after the producers of its inputs (including the
     * outer-scope tensors its sub-graphs read). Ties keep the current order.
     *
     * @throws InvalidModelException when the graph has a cycle or reads a tensor nothing provides
     */
    public List<NodeProto> topologicalOrder() {
        List<NodeProto> nodes = graph.getNodeList();
        Set<String> available = new HashSet<>();
        graph.getInputList().forEach(v -> available.add(v.getName()));
        graph.getInitializerList().forEach(t -> available.add(t.getName()));
        available.add("");
        Map<String, Integer> producerOf = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String out : nodes.get(i).getOutputList()) {
                if (!out.isEmpty()) {
                    producerOf.put(out, i);
                }
            }
        }
        int[] pending = new int[nodes.size()];
        List<List<Integer>> dependents = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            dependents.add(new ArrayList<>());
        }
        for (int i = 0; i < nodes.size(); i++) {
            Set<Integer> deps = new LinkedHashSet<>();
            for (String input : reads(nodes.get(i))) {
                Integer p = producerOf.get(input);
                if (p != null) {
                    deps.add(p);
                } else if (!available.contains(input)) {
                    throw new InvalidModelException("node '" + nodes.get(i).getName() + "' (" + nodes.get(i).getOpType()
                            + ") reads '" + input + "', which no node, graph input or initializer provides");
                }
            }
            pending[i] = deps.size();
            for (int d : deps) {
                dependents.get(d).add(i);
            }
        }
        Deque<Integer> ready = new ArrayDeque<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (pending[i] == 0) {
                ready.add(i);
            }
        }
        List<NodeProto> order = new ArrayList<>(nodes.size());
        while (!ready.isEmpty()) {
            int i = ready.poll();
            order.add(nodes.get(i));
            for (int d : dependents.get(i)) {
                if (--pending[d] == 0) {
                    ready.add(d);
                }
            }
        }
        if (order.size() != nodes.size()) {
            List<String> stuck = new ArrayList<>();
            for (int i = 0; i < nodes.size() && stuck.size() < 5; i++) {
                if (pending[i] > 0) {
                    stuck.add(nodes.get(i).getName().isEmpty() ? nodes.get(i).getOpType() : nodes.get(i).getName());
                }
            }
            throw new InvalidModelException("the graph has a cycle through nodes " + stuck);
        }
        return order;
    }

    /** Reorders the node list topologically (ONNX requires it; appended nodes may break it). */
    public void sortTopologically() {
        List<NodeProto> order = topologicalOrder();
        graph.clearNode().addAllNode(order);
    }

    /** Replaces every read of tensor {@code from} by {@code to} in the nodes matching {@code which}. */
    public void renameInput(String from, String to, java.util.function.Predicate<NodeProto> which) {
        for (NodeProto.Builder node : graph.getNodeBuilderList()) {
            if (!which.test(node.build())) {
                continue;
            }
            for (int i = 0; i < node.getInputCount(); i++) {
                if (node.getInput(i).equals(from)) {
                    node.setInput(i, to);
                }
            }
        }
    }

    /**
     * Turns every {@code Constant} node of this graph that holds a tensor into an initializer of the same
     * name, so weights are found in one place. Returns how many were lifted. Sparse and list-valued
     * constants are left as nodes.
     */
    public int liftConstants() {
        int lifted = 0;
        for (int i = graph.getNodeCount() - 1; i >= 0; i--) {
            NodeProto node = graph.getNode(i);
            if (!node.getOpType().equals("Constant") || !canonicalDomain(node.getDomain()).isEmpty()
                    || node.getOutputCount() != 1) {
                continue;
            }
            Optional<TensorProto> value = constantValue(node);
            if (value.isEmpty()) {
                continue;
            }
            graph.removeNode(i);
            graph.addInitializer(value.get().toBuilder().setName(node.getOutput(0)).build());
            lifted++;
        }
        return lifted;
    }

    private static Optional<TensorProto> constantValue(NodeProto node) {
        for (AttributeProto a : node.getAttributeList()) {
            switch (a.getName()) {
                case "value":
                    return Optional.of(a.getT());
                case "value_float":
                    return Optional.of(Tensors.floats("", new long[0], new float[] {a.getF()}));
                case "value_floats":
                    float[] fs = new float[a.getFloatsCount()];
                    for (int k = 0; k < fs.length; k++) {
                        fs[k] = a.getFloats(k);
                    }
                    return Optional.of(Tensors.floats("", new long[] {fs.length}, fs));
                case "value_int":
                    return Optional.of(Tensors.int64s("", new long[0], new long[] {a.getI()}));
                case "value_ints":
                    long[] is = a.getIntsList().stream().mapToLong(Long::longValue).toArray();
                    return Optional.of(Tensors.int64s("", new long[] {is.length}, is));
                default:
                    // sparse_value and string values stay as nodes
            }
        }
        return Optional.empty();
    }

    /** The tensors a node reads: its inputs and the outer-scope names its sub-graphs use. */
    static Collection<String> reads(NodeProto node) {
        Set<String> reads = new LinkedHashSet<>(node.getInputList());
        for (AttributeProto a : node.getAttributeList()) {
            if (a.hasG()) {
                reads.addAll(outerReads(a.getG()));
            }
            a.getGraphsList().forEach(g -> reads.addAll(outerReads(g)));
        }
        reads.remove("");
        return reads;
    }

    private static Set<String> outerReads(GraphProto g) {
        Set<String> defined = new HashSet<>();
        g.getInputList().forEach(v -> defined.add(v.getName()));
        g.getInitializerList().forEach(t -> defined.add(t.getName()));
        g.getNodeList().forEach(n -> defined.addAll(n.getOutputList()));
        Set<String> outer = new LinkedHashSet<>();
        for (NodeProto n : g.getNodeList()) {
            for (String r : reads(n)) {
                if (!defined.contains(r)) {
                    outer.add(r);
                }
            }
        }
        for (ValueInfoProto out : g.getOutputList()) {
            if (!defined.contains(out.getName())) {
                outer.add(out.getName());
            }
        }
        return outer;
    }

    private static void collectReads(GraphProto g, Set<String> into) {
        for (NodeProto n : g.getNodeList()) {
            into.addAll(n.getInputList());
            for (AttributeProto a : n.getAttributeList()) {
                if (a.hasG()) {
                    collectReads(a.getG(), into);
                    a.getG().getOutputList().forEach(v -> into.add(v.getName()));
                }
                for (GraphProto sub : a.getGraphsList()) {
                    collectReads(sub, into);
                    sub.getOutputList().forEach(v -> into.add(v.getName()));
                }
            }
        }
    }
}
