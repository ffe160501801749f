package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Raises the default-domain ({@code ai.onnx}) opset of a model, node by node: for every operator
 * version a node crosses on the way from the model's opset to the target, the change is either kept
 * as is (it does not alter existing nodes' meaning), rewritten ({@link Adapters}), or refused with a
 * message naming the operator and the versions. An operator missing from {@link OpHistory} is refused
 * too: the converter cannot know whether it changed. Sub-graphs (If, Loop, Scan bodies) are converted
 * with their nodes. Other domains (ai.onnx.ml, com.microsoft, ...) are left as they are.
 *
 * <p>Lowering an opset is not supported.
 */
public final class OpsetConverter {
    /** Older models use pre-broadcasting arithmetic and experimental ops; re-export them. */
    public static final int MIN_SOURCE_OPSET = 7;
    /** The last opset whose operator changes {@link OpHistory} lists. */
    public static final int MAX_TARGET_OPSET = 24;
    /** The highest ai.onnx opset ONNX Runtime 1.29 loads. */
    public static final int ORT_MAX_OPSET = 26;

    /** The lowest IR version each opset needs (the ONNX release that introduced the opset). */
    private static final Map<Integer, Integer> MIN_IR_VERSION = Map.ofEntries(
            Map.entry(7, 3), Map.entry(8, 3), Map.entry(9, 4), Map.entry(10, 5), Map.entry(11, 6), Map.entry(12, 7),
            Map.entry(13, 7), Map.entry(14, 7), Map.entry(15, 8), Map.entry(16, 8), Map.entry(17, 8), Map.entry(18, 8),
            Map.entry(19, 9), Map.entry(20, 9), Map.entry(21, 10), Map.entry(22, 10), Map.entry(23, 11),
            Map.entry(24, 12));

    /**
     * Checks that {@code target} is a reachable opset for a model at {@code source}, before any work.
     *
     * @throws InvalidModelException naming what is wrong and what would work
     */
    public static void checkTarget(long source, long target) {
        if (target < source) {
            throw new InvalidModelException("the model is at opset " + source + "; lowering it to " + target
                    + " is not supported (operators gain features with each opset and cannot always give them up)."
                    + " Ask for opset " + source + " or higher, or re-export the model at opset " + target);
        }
        if (target > ORT_MAX_OPSET) {
            throw new InvalidModelException("opset " + target + " is beyond what ONNX Runtime 1.29 runs (ai.onnx up to opset "
                    + ORT_MAX_OPSET + "); ask for opset " + MAX_TARGET_OPSET + " or lower");
        }
        if (target > MAX_TARGET_OPSET) {
            throw new InvalidModelException("opset " + target + " is not supported: the converter's table of ONNX operator"
                    + " changes ends at opset " + MAX_TARGET_OPSET + " (ONNX Runtime 1.29 would run up to "
                    + ORT_MAX_OPSET + ", but changes after " + MAX_TARGET_OPSET + " are not adapted); ask for opset "
                    + MAX_TARGET_OPSET + " or lower");
        }
        if (source < MIN_SOURCE_OPSET && target > source) {
            throw new InvalidModelException("the model is at opset " + source + "; raising models below opset "
                    + MIN_SOURCE_OPSET + " is not supported (they predate numpy-style broadcasting); re-export it at opset "
                    + MIN_SOURCE_OPSET + " or later");
        }
    }

    /**
     * Raises the model's default-domain opset to {@code target} in place and returns the rewrites made,
     * grouped by operator, version and kind of change. A model already at {@code target} is left as is.
     *
     * @param types element types and ranks of the source model's tensors (from {@link TensorTypes#probe});
     *     {@link TensorTypes#none()} makes the rewrites that need a rank take their general form
     * @throws InvalidModelException when an operator cannot be carried to {@code target}
     */
    public List<ConversionReport.Adaptation> raise(OnnxModel model, long target, TensorTypes types) {
        long source = model.opset("").orElseThrow(() -> new InvalidModelException(
                "the model does not import the default ONNX domain (ai.onnx), so it has no opset to raise"));
        checkTarget(source, target);
        if (target == source) {
            return List.of();
        }
        Set<String> read = new HashSet<>();
        collectReads(model.graph().proto(), read);
        model.graph().proto().getOutputList().forEach(v -> read.add(v.getName()));
        Map<String, Integer> counts = new LinkedHashMap<>();
        convertGraph(model.graph().proto(), model.graph(), types, false, read, source, target, counts);
        model.setOpset("", target);
        int minIr = MIN_IR_VERSION.get((int) target);
        if (model.proto().getIrVersion() < minIr) {
            model.proto().setIrVersion(minIr);
        }
        List<ConversionReport.Adaptation> adaptations = new ArrayList<>();
        counts.forEach((key, count) -> {
            String[] parts = key.split("\u0000", 3);
            adaptations.add(new ConversionReport.Adaptation(parts[0], Integer.parseInt(parts[1]), parts[2], count));
        });
        return adaptations;
    }

    private void convertGraph(GraphProto.Builder graph, OnnxGraph names, TensorTypes types, boolean inSubgraph,
            Set<String> read, long source, long target, Map<String, Integer> counts) {
        List<NodeProto> rebuilt = new ArrayList<>(graph.getNodeCount());
        // snapshot: adapters add initializers to this graph, never nodes, while it is walked
        List<NodeProto> nodes = new ArrayList<>(graph.getNodeList());
        for (NodeProto original : nodes) {
            NodeProto.Builder node = original.toBuilder();
            for (AttributeProto.Builder a : node.getAttributeBuilderList()) {
                if (a.hasG()) {
                    convertGraph(a.getGBuilder(), names, types, true, read, source, target, counts);
                }
                for (GraphProto.Builder sub : a.getGraphsBuilderList()) {
                    convertGraph(sub, names, types, true, read, source, target, counts);
                }
            }
            NodeRewrite rewrite = new NodeRewrite(node, graph, names, types, inSubgraph, read, source, target);
            if (OnnxGraph.canonicalDomain(node.getDomain()).isEmpty()) {
                carry(rewrite, source, target, counts);
            }
            rebuilt.addAll(rewrite.before);
            rebuilt.add(node.build());
            rebuilt.addAll(rewrite.after);
        }
        graph.clearNode().addAllNode(rebuilt);
    }

    /** Walks one node through every version of its operator between {@code source} and {@code target}. */
    private static void carry(NodeRewrite rewrite, long source, long target, Map<String, Integer> counts) {
        long at = source;
        while (true) {
            String opType = rewrite.node.getOpType();
            OpHistory.Op op = OpHistory.find(opType).orElseThrow(() -> new InvalidModelException(
                    Attrs.describe(rewrite.node) + ": the converter does not know operator " + opType
                            + ", so it cannot tell whether " + opType + " changed between opset " + source + " and "
                            + target + "; the model was not converted (keep opset " + source + ")"));
            if (op.introduced() > at) {
                throw new InvalidModelException(Attrs.describe(rewrite.node) + ": " + opType + " exists only from opset "
                        + op.introduced() + ", but the model is at opset " + source);
            }
            boolean renamed = false;
            for (int version : op.crossed(at, target)) {
                String unsupported = op.unsupported.get(version);
                if (unsupported != null) {
                    throw rewrite.cannot(version, unsupported + ", which the converter does not adapt");
                }
                OpHistory.Adapter adapter = op.adapters.get(version);
                at = version;
                if (adapter == null) {
                    continue;
                }
                String did = adapter.adapt(rewrite, version);
                counts.merge(opType + "\u0000" + version + "\u0000" + did, 1, Integer::sum);
                if (!rewrite.node.getOpType().equals(opType)) {
                    renamed = true; // e.g. Upsample -> Resize: continue with the new operator's later versions
                    break;
                }
            }
            if (!renamed) {
                return;
            }
        }
    }

    private static void collectReads(GraphProto.Builder g, Set<String> into) {
        for (NodeProto.Builder n : g.getNodeBuilderList()) {
            into.addAll(n.getInputList());
            for (AttributeProto.Builder a : n.getAttributeBuilderList()) {
                if (a.hasG()) {
                    collectReads(a.getGBuilder(), into);
                    a.getGBuilder().getOutputList().stream().map(ValueInfoProto::getName).forEach(into::add);
                }
                for (GraphProto.Builder sub : a.getGraphsBuilderList()) {
                    collectReads(sub, into);
                    sub.getOutputList().stream().map(ValueInfoProto::getName).forEach(into::add);
                }
            }
        }
    }
}
