package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Truncated SVD of Gemm and MatMul weights: x·W (W rows × columns) becomes (x·P)·Q with P = U_r·Σ_r
 * (rows × r) and Q = V_rᵀ (r × columns), which has fewer parameters and multiply-adds when
 * r·(rows + columns) < rows·columns. A Gemm keeps its bias and beta on the second product; its alpha and
 * transB are folded into the factors. A 1×1 convolution with group 1 is the same product per pixel
 * (W[out, in, 1, 1] as x·W with W in × out): it becomes a 1×1 Conv to r channels (weight Pᵀ, the original's
 * strides and pads, no bias) and a 1×1 Conv back to out (weight Qᵀ, the bias). Layers where the chosen rank
 * saves nothing are left alone.
 */
public final class LowRankFactorizer {

    private LowRankFactorizer() {}

    /** A factorisable layer with its weight as multiplied (alpha and transB applied) and its spectrum. */
    private record Candidate(WeightLayers.Layer layer, NodeProto node, int rows, int columns, double[] w,
            JacobiSvd.Result svd) {
        long params() {
            return (long) rows * columns;
        }

        /** The smallest rank keeping {@code energy} of Σσ². */
        int rankFor(double energy) {
            double total = 0;
            for (double s : svd.s()) {
                total += s * s;
            }
            double kept = 0;
            for (int r = 0; r < svd.p(); r++) {
                kept += svd.s()[r] * svd.s()[r];
                if (kept >= energy * total * (1 - 1e-12)) {
                    return r + 1;
                }
            }
            return svd.p();
        }

        double energyAt(int rank) {
            double total = 0;
            double kept = 0;
            for (int r = 0; r < svd.p(); r++) {
                total += svd.s()[r] * svd.s()[r];
                kept += r < rank ? svd.s()[r] * svd.s()[r] : 0;
            }
            return total == 0 ? 1 : kept / total;
        }

        boolean saves(int rank) {
            return (long) rank * (rows + columns) < params();
        }
    }

    /** Tells after each layer's decomposition (they take seconds on large layers). */
    public interface Progress {
        void layerDone(int done, int total);
    }

    public static LowRankReport factorize(OnnxModel model, LowRankOptions options) {
        return factorize(model, options, (done, total) -> {});
    }

    /** Factorises in place and reports per layer. */
    public static LowRankReport factorize(OnnxModel model, LowRankOptions options, Progress progress) {
        List<WeightLayers.Layer> layers = WeightLayers.of(model);
        WeightLayers.requireKnown(layers, options.skip(), "skip");
        WeightLayers.requireKnown(layers, options.ranks().keySet(), "ranks");
        OnnxGraph graph = model.graph();
        List<WeightLayers.Layer> eligible = new ArrayList<>();
        List<LowRankReport.Layer> notEligible = new ArrayList<>();
        Map<String, NodeProto> nodes = new LinkedHashMap<>();
        graph.nodes().forEach(n -> nodes.put(n.getName(), n));
        for (WeightLayers.Layer layer : layers) {
            NodeProto node = nodes.get(layer.name());
            String why = options.skip().contains(layer.name()) ? "skipped"
                    : node.getOpType().equals("Conv") ? (pointwise(node, layer) ? null
                            : "not a 1×1 convolution with group 1")
                    : layer.dims().length != 2 ? "not a 2-D weight (" + layer.opType() + ")"
                    : node.getOpType().equals("Gemm") && WeightLayers.intAttr(node, "transA", 0) != 0 ? "Gemm with transA"
                    : null;
            if (why == null) {
                eligible.add(layer);
            } else if (options.ranks().containsKey(layer.name())) {
                throw new IllegalArgumentException("ranks names layer '" + layer.name() + "', which cannot be factorised: "
                        + why);
            } else {
                notEligible.add(new LowRankReport.Layer(layer.name(), layer.opType(), 0, 0, 0, 0, layer.params(),
                        layer.params(), 1, why));
            }
        }
        List<Candidate> candidates = new ArrayList<>();
        for (WeightLayers.Layer layer : eligible) {
            NodeProto node = nodes.get(layer.name());
            candidates.add(candidate(graph, layer, node));
            progress.layerDone(candidates.size(), eligible.size());
        }
        Map<String, Integer> ranks = chooseRanks(candidates, options);
        List<LowRankReport.Layer> rows = new ArrayList<>();
        long before = 0;
        long after = 0;
        for (Candidate c : candidates) {
            int rank = ranks.get(c.layer().name());
            before += c.params();
            if (!c.saves(rank)) {
                after += c.params();
                rows.add(new LowRankReport.Layer(c.layer().name(), c.node().getOpType(), c.rows(), c.columns(), rank,
                        c.svd().p(), c.params(), c.params(), c.energyAt(rank), "rank " + rank + " would not save parameters"
                        + " (needs rank below " + divCeil(c.params(), c.rows() + c.columns()) + ")"));
                continue;
            }
            rewrite(model, c, rank);
            long p = (long) rank * (c.rows() + c.columns());
            after += p;
            rows.add(new LowRankReport.Layer(c.layer().name(), c.node().getOpType(), c.rows(), c.columns(), rank,
                    c.svd().p(), c.params(), p, c.energyAt(rank), null));
        }
        rows.addAll(notEligible);
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.lowrank", options.energy() != null ? "energy " + options.energy()
                : options.paramRatio() != null ? "param_ratio " + options.paramRatio() : "ranks " + options.ranks());
        return new LowRankReport(rows, before, after);
    }

    private static long divCeil(long a, long b) {
        return (a + b - 1) / b;
    }

    /** A Conv whose kernel is 1 in every spatial dimension and whose group is 1. */
    static boolean pointwise(NodeProto node, WeightLayers.Layer layer) {
        if (WeightLayers.intAttr(node, "group", 1) != 1 || layer.dims().length < 3) {
            return false;
        }
        for (int d = 2; d < layer.dims().length; d++) {
            if (layer.dims()[d] != 1) {
                return false;
            }
        }
        return true;
    }

    private static Candidate candidate(OnnxGraph graph, WeightLayers.Layer layer, NodeProto node) {
        float[] raw = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
        if (node.getOpType().equals("Conv")) { // W[out, in, 1…] as x·W: rows = in, columns = out
            int out = (int) layer.dims()[0];
            int in = (int) layer.dims()[1];
            double[] w = new double[in * out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    w[i * out + o] = raw[o * in + i];
                }
            }
            return new Candidate(layer, node, in, out, w, JacobiSvd.of(w, in, out));
        }
        int d0 = (int) layer.dims()[0];
        int d1 = (int) layer.dims()[1];
        boolean gemm = node.getOpType().equals("Gemm");
        boolean transB = gemm && WeightLayers.intAttr(node, "transB", 0) == 1;
        double alpha = gemm ? WeightLayers.floatAttr(node, "alpha", 1f) : 1;
        int rows = transB ? d1 : d0;
        int columns = transB ? d0 : d1;
        double[] w = new double[rows * columns];
        for (int i = 0; i < d0; i++) {
            for (int j = 0; j < d1; j++) {
                double v = alpha * raw[i * d1 + j];
                if (transB) {
                    w[j * columns + i] = v;
                } else {
                    w[i * columns + j] = v;
                }
            }
        }
        return new Candidate(layer, node, rows, columns, w, JacobiSvd.of(w, rows, columns));
    }

    private static Map<String, Integer> chooseRanks(List<Candidate> candidates, LowRankOptions options) {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            Integer explicit = options.ranks().get(c.layer().name());
            if (explicit != null && explicit > c.svd().p()) {
                throw new IllegalArgumentException("the rank of layer '" + c.layer().name() + "' is " + explicit
                        + ", above its full rank " + c.svd().p() + " (" + c.rows() + " × " + c.columns() + ")");
            }
        }
        if (options.paramRatio() == null) {
            for (Candidate c : candidates) {
                Integer explicit = options.ranks().get(c.layer().name());
                ranks.put(c.layer().name(), explicit != null ? explicit
                        : options.energy() != null ? c.rankFor(options.energy()) : c.svd().p());
            }
            return ranks;
        }
        // one energy level for all: the highest whose parameters fit the budget (bisection; params fall with energy)
        long budgetBase = 0;
        for (Candidate c : candidates) {
            budgetBase += c.params();
        }
        double budget = options.paramRatio() * budgetBase;
        double lo = 0;
        double hi = 1;
        if (params(candidates, options, 1e-9) > budget) {
            throw new IllegalArgumentException("param_ratio " + options.paramRatio() + " cannot be reached: even rank 1"
                    + " everywhere keeps " + String.format("%.4f", params(candidates, options, 1e-9) / (double) budgetBase)
                    + " of the parameters");
        }
        for (int i = 0; i < 40; i++) {
            double mid = (lo + hi) / 2;
            if (params(candidates, options, mid) <= budget) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        for (Candidate c : candidates) {
            Integer explicit = options.ranks().get(c.layer().name());
            ranks.put(c.layer().name(), explicit != null ? explicit : c.rankFor(lo));
        }
        return ranks;
    }

    private static long params(List<Candidate> candidates, LowRankOptions options, double energy) {
        long total = 0;
        for (Candidate c : candidates) {
            Integer explicit = options.ranks().get(c.layer().name());
            int r = explicit != null ? explicit : c.rankFor(energy);
            total += c.saves(r) ? (long) r * (c.rows() + c.columns()) : c.params();
        }
        return total;
    }

    private static void rewrite(OnnxModel model, Candidate c, int rank) {
        OnnxGraph graph = model.graph();
        JacobiSvd.Result svd = c.svd();
        int p = svd.p();
        float[] pf = new float[c.rows() * rank]; // U_r·Σ_r
        for (int i = 0; i < c.rows(); i++) {
            for (int r = 0; r < rank; r++) {
                pf[i * rank + r] = (float) (svd.u()[i * p + r] * svd.s()[r]);
            }
        }
        float[] qf = new float[rank * c.columns()]; // V_rᵀ
        for (int r = 0; r < rank; r++) {
            for (int j = 0; j < c.columns(); j++) {
                qf[r * c.columns() + j] = (float) svd.v()[j * p + r];
            }
        }
        String base = c.layer().weight();
        String pName = graph.uniqueName(base + "_lowrank_P");
        String qName = graph.uniqueName(base + "_lowrank_Q");
        if (c.node().getOpType().equals("Conv")) {
            rewriteConv(model, c, rank, pf, qf, pName, qName);
            return;
        }
        WeightLayers.addInitializer(model, Tensors.floats(pName, new long[] {c.rows(), rank}, pf));
        WeightLayers.addInitializer(model, Tensors.floats(qName, new long[] {rank, c.columns()}, qf));
        NodeProto.Builder node = WeightLayers.nodeBuilder(graph, c.node().getName());
        String reduced = graph.uniqueName(node.getOutput(0) + "_lowrank");
        graph.addNode(NodeProto.newBuilder().setOpType("MatMul").setName(graph.uniqueName(node.getName() + "_lowrank_P"))
                .addInput(node.getInput(0)).addInput(pName).addOutput(reduced).build());
        node.setInput(0, reduced).setInput(1, qName);
        if (node.getOpType().equals("Gemm")) {
            List<AttributeProto> kept = new ArrayList<>();
            for (AttributeProto a : node.getAttributeList()) {
                if (!a.getName().equals("alpha") && !a.getName().equals("transB") && !a.getName().equals("transA")) {
                    kept.add(a);
                }
            }
            node.clearAttribute().addAllAttribute(kept);
        }
    }

    /** Conv(x, W, b) → Conv(Conv(x, Pᵀ) with the original strides and pads, Qᵀ, b), both 1×1. */
    private static void rewriteConv(OnnxModel model, Candidate c, int rank, float[] pf, float[] qf, String pName,
            String qName) {
        OnnxGraph graph = model.graph();
        int in = c.rows();
        int out = c.columns();
        long[] dims = c.layer().dims();
        long[] firstDims = dims.clone();
        firstDims[0] = rank;
        firstDims[1] = in;
        long[] secondDims = dims.clone();
        secondDims[0] = out;
        secondDims[1] = rank;
        float[] first = new float[rank * in]; // Pᵀ: [r, in]
        for (int i = 0; i < in; i++) {
            for (int r = 0; r < rank; r++) {
                first[r * in + i] = pf[i * rank + r];
            }
        }
        float[] second = new float[out * rank]; // Qᵀ: [out, r]
        for (int r = 0; r < rank; r++) {
            for (int o = 0; o < out; o++) {
                second[o * rank + r] = qf[r * out + o];
            }
        }
        WeightLayers.addInitializer(model, Tensors.floats(pName, firstDims, first));
        WeightLayers.addInitializer(model, Tensors.floats(qName, secondDims, second));
        NodeProto.Builder node = WeightLayers.nodeBuilder(graph, c.node().getName());
        String reduced = graph.uniqueName(node.getOutput(0) + "_lowrank");
        // the first keeps every attribute (strides, pads, dilations, auto_pad): with no bias, a padded pixel is 0
        // there and the second Conv maps it to the bias, as the original did
        graph.addNode(NodeProto.newBuilder().setOpType("Conv").setName(graph.uniqueName(node.getName() + "_lowrank_P"))
                .addInput(node.getInput(0)).addInput(pName).addOutput(reduced).addAllAttribute(node.getAttributeList())
                .build());
        List<AttributeProto> kept = new ArrayList<>();
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals("group") || a.getName().equals("kernel_shape")) {
                kept.add(a);
            }
        }
        node.setInput(0, reduced).setInput(1, qName).clearAttribute().addAllAttribute(kept);
    }
}
