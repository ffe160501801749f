package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OrtException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Structured pruning: whole Conv output channels and Gemm output neurons of least L1 (or L2) norm are removed,
 * and every reader fixed, so the model gets smaller and faster. A layer qualifies when its output reaches
 * exactly one weighted consumer (Conv with group 1, Gemm or MatMul on input 0) through channel-wise ops only
 * (Relu and other activations, pooling, Dropout, Identity, BatchNormalization, whose parameters lose the same
 * channels) and, from a Conv to a Gemm/MatMul, one Flatten or Reshape (whose constant shape is updated).
 * From a Conv to a Conv the path may pass one Concat on the channel axis, whose other inputs' channel counts
 * are known from their Conv weights: the consumer then loses the kept channels' offsets among its inputs.
 * Convs whose outputs meet at a residual Add lose the same channels together ({@link ResidualGroup}), ranked by
 * the importance summed over them, and every reader of the sum loses those input channels; where a reader cannot
 * (a Flatten, a graph output) or a partner is no Conv (a graph input), they are left alone with that reason. Other
 * layers are reported as left alone with the reason; the last layer never qualifies (its outputs are the model's).
 *
 * <p>Channels are ranked by the norm of their weights, or ({@link Importance#ACTIVATION}) by their mean absolute
 * activation on a dataset ({@link ChannelActivations}), measured layer after layer on the model as pruned so far,
 * where the consumer reads them (after the channel-wise ops, so a channel that a Relu always zeroes counts as dead
 * whatever its weights) and weighted by the L1 norm of the consumer weights that read them; the mean the removed
 * channels handed the consumer is then folded into its bias, so removing them does not shift its outputs.
 */
public final class StructuredPruner {
    private static final Set<String> CHANNELWISE = Set.of("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu",
            "HardSigmoid", "Softplus", "MaxPool", "AveragePool", "Dropout", "Identity", "BatchNormalization");

    /**
     * Settings.
     *
     * @param fraction the fraction of each qualifying layer's channels removed (at least one channel stays)
     * @param layers   per-layer fractions, overriding {@code fraction}
     * @param skip     layers left as they are
     * @param l2         rank channels by L2 norm instead of L1 (norm importance)
     * @param importance what ranks the channels
     */
    public record Options(double fraction, Map<String, Double> layers, Set<String> skip, boolean l2,
            Importance importance) {
        public Options {
            PruneOptions.checkSparsity("fraction", fraction);
            layers = Map.copyOf(layers);
            skip = Set.copyOf(skip);
            layers.forEach((name, f) -> PruneOptions.checkSparsity("the fraction of layer '" + name + "'", f));
            java.util.Objects.requireNonNull(importance, "importance");
        }

        /** Ranked by weight norm. */
        public Options(double fraction, Map<String, Double> layers, Set<String> skip, boolean l2) {
            this(fraction, layers, skip, l2, Importance.NORM);
        }
    }

    /** What ranks a layer's channels: the L1/L2 norm of their weights, or their mean |activation| on a dataset. */
    public enum Importance {
        NORM, ACTIVATION;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One layer: channels before and after, its consumer and what ranked its channels ({@code norm} or
     * {@code activation}), or why it was left alone (then consumer and importance are null). Under activation
     * importance, {@code meanFolded} says whether the removed channels' mean was folded into the consumer's bias,
     * and {@code notFolded} why not; both are null otherwise.
     */
    public record Layer(String name, String opType, int channelsBefore, int channelsAfter, String consumer,
            String leftAlone, String importance, Boolean meanFolded, String notFolded) {
        public Layer(String name, String opType, int channelsBefore, int channelsAfter, String consumer,
                String leftAlone, String importance) {
            this(name, opType, channelsBefore, channelsAfter, consumer, leftAlone, importance, null, null);
        }
    }

    /** @param activationSamples the samples activations were measured on; null under norm importance */
    public record Report(List<Layer> layers, long paramsBefore, long paramsAfter, Long activationSamples) {}

    /**
     * The path from a layer to its consumer; {@code offset} is where the layer's channels start among the
     * consumer's input channels (after a Concat on the channel axis), of {@code width} in all.
     */
    private record Chain(List<NodeProto> between, NodeProto consumer, NodeProto reshape, int offset, int width) {
        Chain(List<NodeProto> between, NodeProto consumer, NodeProto reshape) {
            this(between, consumer, reshape, 0, -1);
        }
    }

    private StructuredPruner() {}

    /** Prunes by weight norm; {@link Importance#ACTIVATION} needs {@link #prune(OnnxModel, Options, ChannelActivations)}. */
    public static Report prune(OnnxModel model, Options options) {
        if (options.importance() == Importance.ACTIVATION) {
            throw new IllegalArgumentException("importance activation ranks channels by their mean |activation| on a"
                    + " dataset, and none was given; give a calibration dataset or use norm importance");
        }
        List<WeightLayers.Layer> layers = prepare(model, options);
        try {
            return prune(model, options, layers, null);
        } catch (IOException | OrtException e) {
            throw new IllegalStateException("norm importance runs no model", e);
        }
    }

    /** Prunes by {@code options.importance()}, measuring activations with {@code activations} when that asks for them. */
    public static Report prune(OnnxModel model, Options options, ChannelActivations activations)
            throws IOException, OrtException {
        List<WeightLayers.Layer> layers = prepare(model, options);
        // a dataset that does not fit the model fails the first measurement, before any layer is changed
        return prune(model, options, layers, options.importance() == Importance.ACTIVATION ? activations : null);
    }

    private static List<WeightLayers.Layer> prepare(OnnxModel model, Options options) {
        if (model.proto().getIrVersion() >= 4) { // IR 3 would need each lifted constant declared as an input too
            model.graph().liftConstants(); // a Reshape's shape is often a Constant node
        }
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        WeightLayers.requireKnown(layers, options.skip(), "skip");
        WeightLayers.requireKnown(layers, options.layers().keySet(), "layers");
        return layers;
    }

    private static Report prune(OnnxModel model, Options options, List<WeightLayers.Layer> layers,
            ChannelActivations activations) throws IOException, OrtException {
        boolean byActivation = activations != null;
        long samples = 0;
        if (byActivation) {
            model.graph().proto().clearValueInfo(); // the shapes change as layers are pruned
        }
        OnnxGraph graph = model.graph();
        long before = totalParams(model, layers);
        List<Layer> rows = new ArrayList<>();
        Map<String, Layer> grouped = new java.util.HashMap<>(); // rows of residual groups, by producer
        for (WeightLayers.Layer layer : layers) {
            if (grouped.containsKey(layer.name())) {
                rows.add(grouped.get(layer.name()));
                continue;
            }
            NodeProto node = node(graph, layer.name());
            String why = options.skip().contains(layer.name()) ? "skipped" : null;
            Chain chain = null;
            if (why == null && node.getOpType().equals("MatMul")) {
                why = "MatMul producers are not pruned (no bias to carry along)";
            }
            if (why == null) {
                chain = chain(graph, node);
                if (chain == null) {
                    Optional<NodeProto> join = joinOf(graph, node);
                    if (join.isPresent()) {
                        long[] measuredOn = {0};
                        why = pruneGroup(model, join.get(), options, activations, grouped, measuredOn);
                        if (why == null) {
                            samples = Math.max(samples, measuredOn[0]);
                            rows.add(grouped.get(layer.name()));
                            continue;
                        }
                    }
                    why = why != null ? why : "its output does not reach exactly one Conv/Gemm/MatMul through"
                            + " channel-wise ops";
                }
            }
            int axis = node.getOpType().equals("Conv") ? 0 : WeightLayers.intAttr(node, "transB", 0) == 1 ? 0 : 1;
            TensorProto w = graph.initializer(node.getInput(1)).orElseThrow();
            int channels = (int) Tensors.dims(w)[axis];
            if (why != null) {
                rows.add(new Layer(layer.name(), node.getOpType(), channels, channels, null, why, null));
                continue;
            }
            double fraction = options.layers().getOrDefault(layer.name(), options.fraction());
            int keepCount = Math.max(1, channels - (int) Math.round(fraction * channels));
            int[] keep;
            String notFolded = null;
            if (byActivation) {
                // measured on the model as pruned so far, so a layer is ranked by what its pruned inputs give it
                String tensor = measuredTensor(node, chain);
                ChannelActivations.Measured measured = activations.measure(model, Set.of(tensor));
                samples = measured.samples();
                keep = strongest(contributions(graph, chain, channels, activationsOf(measured, tensor, channels)),
                        keepCount);
                notFolded = foldRemovedMean(graph, chain, channels, keep, measured.mean().get(tensor));
            } else {
                keep = strongest(Tensors.toFloats(w), Tensors.dims(w), axis, keepCount, options.l2());
            }
            apply(model, node, axis, chain, keep, channels);
            rows.add(new Layer(layer.name(), node.getOpType(), channels, keep.length, chain.consumer().getName(), null,
                    options.importance().wireName(), byActivation ? notFolded == null : null, notFolded));
        }
        graph.proto().clearValueInfo(); // shapes inferred before the rewrite would be wrong now
        graph.removeUnusedInitializers();
        model.putMetadata("anvil.structured_pruning", (byActivation ? "mean |activation| on " + samples
                + " samples, removed channels' mean folded into the consumer's bias" : options.l2() ? "L2" : "L1") + ", fraction " + options.fraction()
                + (options.layers().isEmpty() ? "" : ", layers " + options.layers()));
        return new Report(rows, before, totalParams(model, WeightLayers.of(model)),
                byActivation ? samples : null);
    }

    /**
     * Prunes the residual group that meets at {@code join} (the same channels in every producer, the ops between
     * and every consumer's inputs), ranked by the importance summed over the producers, and puts a row per producer
     * in {@code rows}; or returns why it cannot.
     */
    private static String pruneGroup(OnnxModel model, NodeProto join, Options options, ChannelActivations activations,
            Map<String, Layer> rows, long[] measuredOn) throws IOException, OrtException {
        OnnxGraph graph = model.graph();
        ResidualGroup.Found found = ResidualGroup.of(graph, join, CHANNELWISE);
        String partners = String.join(", ", join.getInputList());
        String prefix = "its output meets another branch at " + join.getOpType() + " '" + join.getName() + "' ("
                + partners + ")";
        if (found.group() == null) {
            return prefix + ", which is left alone: " + found.reason();
        }
        ResidualGroup group = found.group();
        double fraction = 1;
        for (NodeProto p : group.producers()) {
            if (options.skip().contains(p.getName())) {
                return prefix + ", whose partner '" + p.getName() + "' is skipped, so it is left alone too";
            }
            fraction = Math.min(fraction, options.layers().getOrDefault(p.getName(), options.fraction()));
        }
        int channels = -1;
        double[] score = null;
        ChannelActivations.Measured measured = activations == null ? null
                : activations.measure(model, new java.util.LinkedHashSet<>(group.outlets().values()));
        for (NodeProto p : group.producers()) {
            TensorProto w = graph.initializer(p.getInput(1)).orElseThrow();
            int c = (int) Tensors.dims(w)[0];
            if (channels >= 0 && c != channels) {
                return prefix + ", which is left alone: its producers have " + channels + " and " + c + " channels";
            }
            channels = c;
            double[] s = measured != null ? activationsOf(measured, group.outlets().get(p.getName()), c)
                    : norms(Tensors.toFloats(w), Tensors.dims(w), 0, options.l2());
            if (score == null) {
                score = new double[c];
            }
            for (int i = 0; i < c; i++) {
                score[i] += s[i];
            }
        }
        int[] keep = strongest(score, Math.max(1, channels - (int) Math.round(fraction * channels)));
        for (NodeProto p : group.producers()) {
            select(graph, p.getInput(1), 0, keep);
            if (p.getInputCount() > 2 && !p.getInput(2).isEmpty()) {
                select(graph, p.getInput(2), 0, keep);
            }
        }
        for (NodeProto n : group.between()) {
            if (n.getOpType().equals("BatchNormalization")) {
                for (int i = 1; i <= 4; i++) {
                    select(graph, n.getInput(i), 0, keep);
                }
            }
        }
        for (NodeProto c : group.consumers()) {
            select(graph, c.getInput(1), 1, keep);
        }
        measuredOn[0] = measured == null ? 0 : measured.samples();
        String consumers = String.join(", ", group.consumers().stream().map(NodeProto::getName).toList());
        for (NodeProto p : group.producers()) {
            String others = String.join(", ", group.producers().stream().map(NodeProto::getName)
                    .filter(n -> !n.equals(p.getName())).toList());
            rows.put(p.getName(), new Layer(p.getName(), p.getOpType(), channels, keep.length, consumers
                    + " (the same channels as " + others + ")", null, options.importance().wireName()));
        }
        return null;
    }

    /** The element-wise join (a residual Add) that {@code producer}'s output reaches through channel-wise ops. */
    private static Optional<NodeProto> joinOf(OnnxGraph graph, NodeProto producer) {
        String tensor = producer.getOutput(0);
        for (int depth = 0; depth < 64; depth++) {
            List<NodeProto> readers = graph.consumers(tensor);
            for (NodeProto r : readers) {
                if (Set.of("Add", "Sum", "Sub", "Mul", "Max", "Min").contains(r.getOpType())
                        && r.getInputList().stream().filter(i -> graph.initializer(i).isEmpty()).count() > 1) {
                    return Optional.of(r);
                }
            }
            if (readers.size() != 1 || !CHANNELWISE.contains(readers.get(0).getOpType())) {
                return Optional.empty();
            }
            tensor = readers.get(0).getOutput(0);
        }
        return Optional.empty();
    }

    /**
     * What each channel hands its consumer: its mean |activation| times the L1 norm of the consumer weights that
     * read it (after a Flatten, of every feature the channel became), so a channel the consumer barely reads ranks
     * low however loud it is.
     */
    private static double[] contributions(OnnxGraph graph, Chain chain, int channels, double[] meanAbs) {
        NodeProto consumer = chain.consumer();
        TensorProto weight = graph.initializer(consumer.getInput(1)).orElseThrow();
        long[] dims = Tensors.dims(weight);
        int inAxis = consumer.getOpType().equals("Conv") ? 1
                : consumer.getOpType().equals("Gemm") && WeightLayers.intAttr(consumer, "transB", 0) == 1 ? 1 : 0;
        double[] inputNorms = norms(Tensors.toFloats(weight), dims, inAxis, false);
        int offset = chain.width() >= 0 ? chain.offset() : 0;
        int spatial = chain.reshape() != null ? (int) (dims[inAxis] / channels) : 1;
        double[] score = new double[channels];
        for (int c = 0; c < channels; c++) {
            double read = 0;
            for (int s = 0; s < spatial; s++) {
                read += inputNorms[(offset + c) * spatial + s];
            }
            score[c] = meanAbs[c] * read;
        }
        return score;
    }

    /**
     * Folds the mean that the channels about to be removed hand the consumer into its bias, so that removing them
     * takes away only their variation around that mean, not a constant shift of every consumer output (on cnn_mnist
     * that shift, not the ranking, is most of what removing half of the first Conv's channels cost). Conv: bias[o]
     * += Σ mean(c) · Σ W[o, c, ·] (exact where the kernel does not reach into padding); Gemm: bias[o] += alpha/beta ·
     * Σ mean(f) · W[f, o] over the features f the removed channels became. Must run before the consumer's input
     * channels are removed. Returns null when folded, else why not (nothing is changed then).
     */
    private static String foldRemovedMean(OnnxGraph graph, Chain chain, int channels, int[] keep, double[] mean) {
        NodeProto consumer = chain.consumer();
        boolean afterConcat = false;
        for (NodeProto n : chain.between()) {
            afterConcat |= n.getOpType().equals("Concat");
            if (afterConcat && !Set.of("Concat", "Identity", "Dropout").contains(n.getOpType())) {
                return n.getOpType() + " '" + n.getName() + "' between the Concat and the consumer changes the mean";
            }
        }
        String op = consumer.getOpType();
        if (!op.equals("Conv") && !op.equals("Gemm")) {
            return op + " '" + consumer.getName() + "' has no bias to fold the mean into";
        }
        if (consumer.getInputCount() < 3 || consumer.getInput(2).isEmpty()
                || graph.initializer(consumer.getInput(2)).isEmpty()) {
            return "the consumer '" + consumer.getName() + "' has no bias initializer";
        }
        TensorProto biasTensor = graph.initializer(consumer.getInput(2)).orElseThrow();
        TensorProto weightTensor = graph.initializer(consumer.getInput(1)).orElseThrow();
        if (graph.consumers(consumer.getInput(2)).size() != 1 || !Tensors.isFloat(biasTensor)) {
            return "the consumer's bias '" + biasTensor.getName() + "' is shared or not float";
        }
        long[] dims = Tensors.dims(weightTensor);
        float[] w = Tensors.toFloats(weightTensor);
        float[] bias = Tensors.toFloats(biasTensor);
        boolean[] removed = new boolean[channels];
        java.util.Arrays.fill(removed, true);
        for (int k : keep) {
            removed[k] = false;
        }
        int offset = chain.width() >= 0 ? chain.offset() : 0;
        if (op.equals("Conv")) {
            int outs = (int) dims[0];
            int ins = (int) dims[1];
            int kernel = (int) (w.length / ((long) outs * ins));
            if (bias.length != outs) {
                return "the consumer's bias has " + bias.length + " values for " + outs + " outputs";
            }
            double[] channelMean = new double[channels];
            int inner = mean.length / channels;
            for (int i = 0; i < mean.length; i++) {
                channelMean[i / inner] += mean[i] / inner;
            }
            for (int o = 0; o < outs; o++) {
                double shift = 0;
                for (int c = 0; c < channels; c++) {
                    if (removed[c]) {
                        int base = (o * ins + offset + c) * kernel;
                        for (int k = 0; k < kernel; k++) {
                            shift += channelMean[c] * w[base + k];
                        }
                    }
                }
                bias[o] += (float) shift;
            }
        } else {
            boolean transB = WeightLayers.intAttr(consumer, "transB", 0) == 1;
            int features = (int) dims[transB ? 1 : 0];
            int outs = (int) dims[transB ? 0 : 1];
            // a Flatten/Reshape hands the Gemm every element of a sample; without one the channels are the features
            if (mean.length != features) {
                return "the consumer reads " + features + " features where " + mean.length + " were measured";
            }
            if (bias.length != outs) {
                return "the consumer's bias has " + bias.length + " values for " + outs + " outputs";
            }
            double alpha = floatAttr(consumer, "alpha", 1);
            double beta = floatAttr(consumer, "beta", 1);
            if (beta == 0) {
                return "the consumer's beta is 0, so its bias is not added";
            }
            int spatial = features / channels;
            for (int o = 0; o < outs; o++) {
                double shift = 0;
                for (int f = 0; f < features; f++) {
                    if (removed[f / spatial]) {
                        shift += mean[f] * w[transB ? o * features + f : f * outs + o];
                    }
                }
                bias[o] += (float) (alpha / beta * shift);
            }
        }
        List<TensorProto> inits = graph.proto().getInitializerList();
        for (int i = 0; i < inits.size(); i++) {
            if (inits.get(i).getName().equals(biasTensor.getName())) {
                graph.proto().setInitializer(i, Tensors.floats(biasTensor.getName(), Tensors.dims(biasTensor), bias));
            }
        }
        return null;
    }

    private static double floatAttr(NodeProto node, String name, double fallback) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst()
                .map(a -> (double) a.getF()).orElse(fallback);
    }

    private static double[] activationsOf(ChannelActivations.Measured measured, String tensor, int channels) {
        double[] a = measured.meanAbs().get(tensor);
        if (a == null || a.length != channels) {
            throw new IllegalStateException("activations of '" + tensor + "' have " + (a == null ? "no" : a.length)
                    + " channels where " + channels + " were expected");
        }
        return a;
    }

    /** Where the consumer reads a layer's channels: after the channel-wise ops, before a Concat or Flatten. */
    private static String measuredTensor(NodeProto producer, Chain chain) {
        String tensor = producer.getOutput(0);
        for (NodeProto n : chain.between()) {
            if (n.getOpType().equals("Concat")) {
                break;
            }
            tensor = n.getOutput(0);
        }
        return tensor;
    }

    private static long totalParams(OnnxModel model, List<WeightLayers.Layer> layers) {
        long total = 0;
        for (TensorProto t : model.graph().proto().getInitializerList()) {
            if (Tensors.isFloat(t)) {
                total += Tensors.elementCount(Tensors.dims(t));
            }
        }
        return total;
    }

    private static NodeProto node(OnnxGraph graph, String name) {
        return graph.nodes().stream().filter(n -> n.getName().equals(name)).findFirst().orElseThrow();
    }

    private static Chain chain(OnnxGraph graph, NodeProto producer) {
        boolean conv = producer.getOpType().equals("Conv");
        String tensor = producer.getOutput(0);
        List<NodeProto> between = new ArrayList<>();
        NodeProto reshape = null;
        int offset = -1;
        int width = -1;
        boolean concatenated = false;
        while (true) {
            if (graph.isGraphOutput(tensor)) {
                return null;
            }
            List<NodeProto> readers = graph.consumers(tensor);
            if (readers.size() != 1) {
                return null;
            }
            NodeProto next = readers.get(0);
            if (next.getOutputCount() < 1) {
                return null;
            }
            String op = next.getOpType();
            if (!next.getInput(0).equals(tensor) && !op.equals("Concat")) {
                return null;
            }
            if (CHANNELWISE.contains(op) && (reshape == null || !op.equals("BatchNormalization"))) {
                if (op.equals("BatchNormalization") && !conv) {
                    return null;
                }
                between.add(next);
                tensor = next.getOutput(0);
                continue;
            }
            if (op.equals("Concat") && conv && reshape == null && offset < 0
                    && WeightLayers.intAttr(next, "axis", 0) == 1) {
                offset = 0;
                width = 0;
                boolean seen = false;
                for (String input : next.getInputList()) {
                    Integer c = channelsOf(graph, input);
                    if (c == null) {
                        return null;
                    }
                    if (input.equals(tensor)) {
                        if (seen) {
                            return null; // the same tensor twice
                        }
                        seen = true;
                    } else if (!seen) {
                        offset += c;
                    }
                    width += c;
                }
                concatenated = true;
                between.add(next);
                tensor = next.getOutput(0);
                continue;
            }
            if (conv && reshape == null && !concatenated && (op.equals("Flatten") && WeightLayers.intAttr(next, "axis", 1) == 1
                    || op.equals("Reshape") && reshapeShape(graph, next).isPresent())) {
                reshape = next;
                tensor = next.getOutput(0);
                continue;
            }
            boolean weighted = graph.initializer(next.getInputCount() > 1 ? next.getInput(1) : "").map(t -> Tensors
                    .dims(t).length >= 2 && t.getDataType() == TensorProto.DataType.FLOAT_VALUE).orElse(false);
            if (!weighted || graph.consumers(next.getInput(1)).size() != 1) {
                return null;
            }
            if (op.equals("Conv") && conv && reshape == null && WeightLayers.intAttr(next, "group", 1) == 1) {
                if (!concatenated) {
                    return new Chain(between, next, null);
                }
                long in = Tensors.dims(graph.initializer(next.getInput(1)).orElseThrow())[1];
                return in == width ? new Chain(between, next, null, offset, width) : null;
            }
            if (!concatenated && (op.equals("Gemm") && WeightLayers.intAttr(next, "transA", 0) == 0 || op.equals("MatMul"))
                    && (!conv || reshape != null) && Tensors.dims(graph.initializer(next.getInput(1)).orElseThrow()).length == 2) {
                return new Chain(between, next, reshape);
            }
            return null;
        }
    }

    /**
     * The channels of a tensor, followed back through channel-wise ops, Conv weights and channel Concats; null
     * when not known from the graph's initializers.
     */
    private static Integer channelsOf(OnnxGraph graph, String tensor) {
        NodeProto producer = graph.nodes().stream().filter(n -> n.getOutputList().contains(tensor)).findFirst()
                .orElse(null);
        if (producer == null) {
            return null;
        }
        String op = producer.getOpType();
        if (CHANNELWISE.contains(op)) {
            return channelsOf(graph, producer.getInput(0));
        }
        if (op.equals("Conv") && producer.getInputCount() > 1) {
            return graph.initializer(producer.getInput(1)).map(t -> (int) Tensors.dims(t)[0]).orElse(null);
        }
        if (op.equals("Concat") && WeightLayers.intAttr(producer, "axis", 0) == 1) {
            int sum = 0;
            for (String input : producer.getInputList()) {
                Integer c = channelsOf(graph, input);
                if (c == null) {
                    return null;
                }
                sum += c;
            }
            return sum;
        }
        return null;
    }

    /** A Reshape to [batch, features] by a constant shape. */
    private static Optional<long[]> reshapeShape(OnnxGraph graph, NodeProto reshape) {
        if (reshape.getInputCount() < 2) {
            return Optional.empty();
        }
        return graph.initializer(reshape.getInput(1)).map(Tensors::toLongs).filter(s -> s.length == 2);
    }

    /** The indices of the {@code count} channels of largest norm, ascending. */
    static int[] strongest(float[] w, long[] dims, int axis, int count, boolean l2) {
        return strongest(norms(w, dims, axis, l2), count);
    }

    /** The L1 (or squared L2) norm of each channel along {@code axis}. */
    private static double[] norms(float[] w, long[] dims, int axis, boolean l2) {
        int channels = (int) dims[axis];
        long stride = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            stride *= dims[d];
        }
        double[] norm = new double[channels];
        for (int i = 0; i < w.length; i++) {
            int c = (int) ((i / stride) % channels);
            norm[c] += l2 ? (double) w[i] * w[i] : Math.abs(w[i]);
        }
        return norm;
    }

    /** The indices of the {@code count} channels of largest score, ascending; ties keep the lower index. */
    static int[] strongest(double[] norm, int count) {
        int channels = norm.length;
        Integer[] order = new Integer[channels];
        for (int c = 0; c < channels; c++) {
            order[c] = c;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer c) -> -norm[c]).thenComparingInt(c -> c));
        int[] keep = new int[count];
        for (int i = 0; i < count; i++) {
            keep[i] = order[i];
        }
        Arrays.sort(keep);
        return keep;
    }

    private static void apply(OnnxModel model, NodeProto producer, int axis, Chain chain, int[] keep, int channels) {
        OnnxGraph graph = model.graph();
        select(graph, producer.getInput(1), axis, keep);
        if (producer.getInputCount() > 2 && !producer.getInput(2).isEmpty()) {
            select(graph, producer.getInput(2), 0, keep);
        }
        int[] joined = keep; // the kept channels among those after a Concat: the other inputs' all stay
        boolean afterConcat = false;
        if (chain.width() >= 0) {
            joined = new int[chain.width() - channels + keep.length];
            int n = 0;
            for (int c = 0; c < chain.offset(); c++) {
                joined[n++] = c;
            }
            for (int k : keep) {
                joined[n++] = chain.offset() + k;
            }
            for (int c = chain.offset() + channels; c < chain.width(); c++) {
                joined[n++] = c;
            }
        }
        for (NodeProto n : chain.between()) {
            afterConcat |= n.getOpType().equals("Concat");
            if (n.getOpType().equals("BatchNormalization")) {
                for (int i = 1; i <= 4; i++) {
                    select(graph, n.getInput(i), 0, afterConcat ? joined : keep);
                }
            }
        }
        NodeProto consumer = chain.consumer();
        String weight = consumer.getInput(1);
        long[] dims = Tensors.dims(graph.initializer(weight).orElseThrow());
        int inAxis = consumer.getOpType().equals("Conv") ? 1
                : consumer.getOpType().equals("Gemm") && WeightLayers.intAttr(consumer, "transB", 0) == 1 ? 1 : 0;
        int[] inputs = joined;
        if (chain.reshape() != null) {
            int features = (int) dims[inAxis];
            int spatial = features / channels;
            inputs = new int[keep.length * spatial];
            for (int i = 0; i < keep.length; i++) {
                for (int s = 0; s < spatial; s++) {
                    inputs[i * spatial + s] = keep[i] * spatial + s;
                }
            }
            NodeProto reshape = chain.reshape();
            if (reshape.getOpType().equals("Reshape")) {
                long[] shape = reshapeShape(graph, reshape).orElseThrow();
                if (shape[1] > 0) {
                    shape[1] = inputs.length;
                    graph.proto().getInitializerBuilderList().stream()
                            .filter(t -> t.getName().equals(reshape.getInput(1))).findFirst().orElseThrow()
                            .clearRawData().clearInt64Data().setRawData(Tensors.int64s("s", new long[] {2}, shape)
                                    .getRawData());
                }
            }
        }
        select(graph, weight, inAxis, inputs);
    }

    /** Keeps only {@code keep} (ascending) along {@code axis} of the float initializer {@code name}. */
    private static void select(OnnxGraph graph, String name, int axis, int[] keep) {
        List<TensorProto.Builder> inits = graph.proto().getInitializerBuilderList();
        for (int i = 0; i < inits.size(); i++) {
            TensorProto t = graph.proto().getInitializer(i);
            if (!t.getName().equals(name)) {
                continue;
            }
            long[] dims = Tensors.dims(t);
            float[] w = Tensors.toFloats(t);
            long inner = 1;
            for (int d = axis + 1; d < dims.length; d++) {
                inner *= dims[d];
            }
            long outer = 1;
            for (int d = 0; d < axis; d++) {
                outer *= dims[d];
            }
            float[] out = new float[(int) (outer * keep.length * inner)];
            int n = 0;
            for (long o = 0; o < outer; o++) {
                for (int k : keep) {
                    long base = (o * dims[axis] + k) * inner;
                    for (long j = 0; j < inner; j++) {
                        out[n++] = w[(int) (base + j)];
                    }
                }
            }
            long[] newDims = dims.clone();
            newDims[axis] = keep.length;
            graph.proto().setInitializer(i, Tensors.floats(name, newDims, out));
            // IR 3 models declare every initializer among the inputs too, with its shape
            for (var input : graph.proto().getInputBuilderList()) {
                if (input.getName().equals(name) && input.getType().getTensorType().hasShape()) {
                    var shape = input.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
                    if (shape.getDimCount() == newDims.length) {
                        shape.getDimBuilder(axis).clearDimParam().setDimValue(keep.length);
                    }
                }
            }
            return;
        }
        throw new IllegalStateException("initializer '" + name + "' not found");
    }
}
