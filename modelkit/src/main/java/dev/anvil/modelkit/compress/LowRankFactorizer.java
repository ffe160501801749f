package dev.anvil.modelkit.compress;

import dev.anvil.modelkit.onnx.OnnxGraph;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Truncated SVD of Gemm and MatMul weights: x·W (W rows × columns) becomes (x·P)·Q with P = U_r·Σ_r
 * (rows × r) and Q = V_rᵀ (r × columns), which has fewer parameters and multiply-adds when
 * r·(rows + columns) < rows·columns. A Gemm keeps its bias and beta on the second product; its alpha and
 * transB are folded into the factors. A 1×1 convolution with group 1 is the same product per pixel
 * (W[out, in, 1, 1] as x·W with W in × out): it becomes a 1×1 Conv to r channels (weight Pᵀ, the original's
 * strides and pads, no bias) and a 1×1 Conv back to out (weight Qᵀ, the bias). Layers where the chosen rank
 * saves nothing are left alone. With {@code embeddings}, an embedding table E (a Gather's data) becomes
 * Gather(P, ids)·Q, as ALBERT factorises its embeddings.
 *
 * <p>Activation-aware ({@link LowRankOptions.Method#ACTIVATION_AWARE}, as SVD-LLM): with XᵀX of the layer's
 * calibration inputs factorised as L·Lᵀ (Cholesky, after a small ridge), ‖X·(W − W')‖ = ‖Lᵀ·(W − W')‖, so the
 * truncated SVD U_r·Σ_r·V_rᵀ of Lᵀ·W gives the best rank-r W' for those inputs: P = L⁻ᵀ·U_r·Σ_r (a triangular
 * solve), Q = V_rᵀ. Plain SVD minimises ‖W − W'‖ instead, which treats every input direction alike.
 */
public final class LowRankFactorizer {
    /**
     * Ridge added to XᵀX before its Cholesky factorisation, relative to the mean of its diagonal: directions the
     * calibration data never excites would otherwise be free to grow without bound in the factors.
     */
    static final double DAMPING = 1e-4;

    private LowRankFactorizer() {}

    /**
     * A factorisable layer with its weight as multiplied (alpha and transB applied; an embedding table as it is)
     * and the spectrum that is truncated: of W, or with whitening of Lᵀ·W where XᵀX + δI = L·Lᵀ, or for an
     * embedding table weighed by token frequency of D^½·E (D the rows' weights, {@code rowScale} = D^½'s diagonal).
     */
    record Candidate(WeightLayers.Layer layer, NodeProto node, int rows, int columns, JacobiSvd.Result svd,
            double[] cholesky, double[] rowScale, String method) {
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

        long paramsAt(int rank) {
            return saves(rank) ? (long) rank * (rows + columns) : params();
        }
    }

    /** Tells after each layer's decomposition (they take seconds on large layers). */
    public interface Progress {
        void layerDone(int done, int total);
    }

    /**
     * The decompositions of a model's factorisable layers, which {@link #apply} turns into a factorised model at
     * any budget: the expensive part done once for several budgets of the same model, method, skip and embeddings.
     */
    public static final class Analysis {
        private final LowRankOptions.Method method;
        private final LowRankOptions.EmbeddingWeights embeddingWeights;
        private final Double frequencyFloor;
        private final List<Candidate> candidates;
        private final List<LowRankReport.Layer> notEligible;
        private final double seconds;

        private Analysis(LowRankOptions options, List<Candidate> candidates, List<LowRankReport.Layer> notEligible,
                double seconds) {
            this.method = options.method();
            this.embeddingWeights = options.embeddingWeights();
            this.frequencyFloor = options.frequencyFloor();
            this.candidates = candidates;
            this.notEligible = notEligible;
            this.seconds = seconds;
        }

        /** Wall time of the decompositions (and whitening). */
        public double seconds() {
            return seconds;
        }

        /** The factorisable layers of one op type (Gemm, MatMul, Conv, Gather), by name. */
        public List<String> layers(String opType) {
            return candidates.stream().filter(c -> c.node().getOpType().equals(opType)).map(c -> c.layer().name())
                    .toList();
        }

        /** The factorisable layers' parameters. */
        public long params() {
            return candidates.stream().mapToLong(Candidate::params).sum();
        }
    }

    public static LowRankReport factorize(OnnxModel model, LowRankOptions options) {
        return factorize(model, options, (done, total) -> {}, null);
    }

    public static LowRankReport factorize(OnnxModel model, LowRankOptions options, Progress progress) {
        return factorize(model, options, progress, null);
    }

    /**
     * Factorises in place and reports per layer.
     *
     * @param grams XᵀX of the layers' inputs by tensor name ({@link InputGrams} over {@link #calibrationInputs}), for
     *              {@link LowRankOptions.Method#ACTIVATION_AWARE}; null for plain SVD
     */
    public static LowRankReport factorize(OnnxModel model, LowRankOptions options, Progress progress,
            Map<String, InputGrams.Gram> grams) {
        return apply(model, options, analyse(model, options, grams, progress));
    }

    /**
     * The tensors whose XᵀX activation-aware factorisation needs: input 0 of each Gemm/MatMul layer it would
     * factorise (1×1 convolutions and embedding tables are factorised by plain SVD).
     */
    public static Set<String> calibrationInputs(OnnxModel model, LowRankOptions options) {
        Set<String> inputs = new LinkedHashSet<>();
        for (Eligible e : eligible(model, options).eligible) {
            if (whitened(e.node(), options)) {
                inputs.add(e.node().getInput(0));
            }
        }
        return inputs;
    }

    private static boolean whitened(NodeProto node, LowRankOptions options) {
        return options.method() == LowRankOptions.Method.ACTIVATION_AWARE
                && (node.getOpType().equals("MatMul") || node.getOpType().equals("Gemm"));
    }

    private record Eligible(WeightLayers.Layer layer, NodeProto node) {}

    private record Layers(List<Eligible> eligible, List<LowRankReport.Layer> notEligible) {}

    private static Layers eligible(OnnxModel model, LowRankOptions options) {
        List<WeightLayers.Layer> layers = new ArrayList<>(WeightLayers.of(model));
        OnnxGraph graph = model.graph();
        if (options.embeddings()) {
            layers.addAll(embeddingTables(graph));
        }
        WeightLayers.requireKnown(layers, options.skip(), "skip");
        WeightLayers.requireKnown(layers, options.ranks().keySet(), "ranks");
        List<Eligible> eligible = new ArrayList<>();
        List<LowRankReport.Layer> notEligible = new ArrayList<>();
        Map<String, NodeProto> nodes = new LinkedHashMap<>();
        graph.nodes().forEach(n -> nodes.put(n.getName(), n));
        for (WeightLayers.Layer layer : layers) {
            NodeProto node = nodes.get(layer.name());
            String why = options.skip().contains(layer.name()) ? "skipped"
                    : node.getOpType().equals("Gather") ? null
                    : node.getOpType().equals("Conv") ? (pointwise(node, layer) ? null
                            : "not a 1×1 convolution with group 1")
                    : layer.dims().length != 2 ? "not a 2-D weight (" + layer.opType() + ")"
                    : node.getOpType().equals("Gemm") && WeightLayers.intAttr(node, "transA", 0) != 0 ? "Gemm with transA"
                    : null;
            if (why == null) {
                eligible.add(new Eligible(layer, node));
            } else if (options.ranks().containsKey(layer.name())) {
                throw new IllegalArgumentException("ranks names layer '" + layer.name() + "', which cannot be factorised: "
                        + why);
            } else {
                notEligible.add(new LowRankReport.Layer(layer.name(), layer.opType(), 0, 0, 0, 0, layer.params(),
                        layer.params(), 1, why, null));
            }
        }
        return new Layers(eligible, notEligible);
    }

    /** Gather nodes on axis 0 whose data (input 0) is a 2-D float initializer read by that node alone. */
    private static List<WeightLayers.Layer> embeddingTables(OnnxGraph graph) {
        Map<String, TensorProto> initializers = graph.initializers();
        Map<String, Integer> readers = new LinkedHashMap<>();
        for (NodeProto node : graph.nodes()) {
            for (String input : node.getInputList()) {
                readers.merge(input, 1, Integer::sum);
            }
        }
        List<WeightLayers.Layer> tables = new ArrayList<>();
        for (NodeProto node : graph.nodes()) {
            if (!node.getOpType().equals("Gather") || !node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")
                    || WeightLayers.intAttr(node, "axis", 0) != 0 || node.getInputCount() < 2) {
                continue;
            }
            TensorProto table = initializers.get(node.getInput(0));
            if (table == null || table.getDataType() != TensorProto.DataType.FLOAT_VALUE
                    || Tensors.dims(table).length != 2 || readers.get(table.getName()) != 1) {
                continue;
            }
            tables.add(new WeightLayers.Layer(node.getName(), "Gather", table.getName(), Tensors.dims(table)));
        }
        return tables;
    }

    /**
     * The model inputs holding the ids of the embedding tables that {@code embedding_weights: token_frequency} weighs,
     * with the rows of the smallest table each indexes: a Gather's ids (input 1) that are a graph input. Tables read
     * through computed ids (positions) are left out and factorised with every row alike.
     */
    public static Map<String, Integer> tokenCountInputs(OnnxModel model, LowRankOptions options) {
        Map<String, Integer> inputs = new LinkedHashMap<>();
        if (options.embeddingWeights() != LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY) {
            return inputs;
        }
        Set<String> graphInputs = new LinkedHashSet<>();
        model.graph().proto().getInputList().forEach(v -> graphInputs.add(v.getName()));
        for (Eligible e : eligible(model, options).eligible) {
            if (e.node().getOpType().equals("Gather") && graphInputs.contains(e.node().getInput(1))) {
                inputs.merge(e.node().getInput(1), (int) e.layer().dims()[0], Math::min);
            }
        }
        return inputs;
    }

    /** Decomposes every factorisable layer (whitened where the options say so). */
    public static Analysis analyse(OnnxModel model, LowRankOptions options, Map<String, InputGrams.Gram> grams,
            Progress progress) {
        return analyse(model, options, grams, null, progress);
    }

    /**
     * Decomposes every factorisable layer (whitened where the options say so; embedding tables weighed by
     * {@code tokenCounts}, {@link TokenCounts} of {@link #tokenCountInputs}, with token frequency).
     */
    public static Analysis analyse(OnnxModel model, LowRankOptions options, Map<String, InputGrams.Gram> grams,
            Map<String, long[]> tokenCounts, Progress progress) {
        long started = System.nanoTime();
        if (options.method() == LowRankOptions.Method.ACTIVATION_AWARE && grams == null) {
            throw new IllegalArgumentException("method activation_aware weighs each layer by its calibration inputs:"
                    + " give a calibration dataset");
        }
        Map<String, Integer> weighted = tokenCountInputs(model, options);
        if (options.embeddingWeights() == LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY && tokenCounts == null) {
            throw new IllegalArgumentException("embedding_weights: token_frequency weighs each table's rows by how often"
                    + " the calibration data holds their ids: give a calibration dataset");
        }
        Layers layers = eligible(model, options);
        OnnxGraph graph = model.graph();
        List<Candidate> candidates = new ArrayList<>();
        for (Eligible e : layers.eligible) {
            InputGrams.Gram gram = null;
            if (whitened(e.node(), options)) {
                gram = grams.get(e.node().getInput(0));
                if (gram == null) {
                    throw new IllegalArgumentException("no calibration statistics for input '" + e.node().getInput(0)
                            + "' of layer '" + e.layer().name() + "'");
                }
            }
            double[] rowWeights = null;
            if (e.node().getOpType().equals("Gather") && weighted.containsKey(e.node().getInput(1))) {
                rowWeights = rowWeights(e, tokenCounts.get(e.node().getInput(1)), options.frequencyFloor());
            }
            candidates.add(candidate(graph, e.layer(), e.node(), gram, rowWeights));
            progress.layerDone(candidates.size(), layers.eligible.size());
        }
        return new Analysis(options, candidates, layers.notEligible, (System.nanoTime() - started) / 1e9);
    }

    /** count + floor per row of the table. */
    private static double[] rowWeights(Eligible e, long[] counts, double floor) {
        int vocabulary = (int) e.layer().dims()[0];
        if (counts == null || counts.length != vocabulary) {
            throw new IllegalArgumentException("no token counts of " + vocabulary + " ids for input '"
                    + e.node().getInput(1) + "' of embedding table '" + e.layer().name() + "'"
                    + (counts == null ? "" : " (got " + counts.length + ")"));
        }
        double[] w = new double[vocabulary];
        for (int i = 0; i < vocabulary; i++) {
            if (counts[i] < 0) {
                throw new IllegalArgumentException("token count of id " + i + " for '" + e.layer().name()
                        + "' is negative: " + counts[i]);
            }
            w[i] = counts[i] + floor;
        }
        return w;
    }

    /**
     * Rewrites {@code model} (the model that was analysed, or an identical copy) at the options' ranks. The options
     * must have the analysis' method; they may leave out embeddings or skip more layers than it did.
     */
    public static LowRankReport apply(OnnxModel model, LowRankOptions options, Analysis analysis) {
        if (options.refinement() == LowRankOptions.Refinement.SEQUENTIAL) {
            throw new IllegalArgumentException("refine: sequential runs the calibration dataset through the model as it"
                    + " is factorised, not only its statistics: use SequentialRefinement.apply");
        }
        try {
            return apply(model, options, analysis, null);
        } catch (java.io.IOException | ai.onnxruntime.OrtException e) {
            throw new IllegalStateException("no stage refit was asked for, yet one failed", e);
        }
    }

    /** Refits the layers of one stage (the layers reading one tensor) on the model as factorised so far. */
    interface StageFit {
        List<Candidate> fit(OnnxModel current, List<Candidate> stage, Map<String, Integer> ranks)
                throws java.io.IOException, ai.onnxruntime.OrtException;
    }

    /**
     * Rewrites at the options' ranks; with {@code refit}, the whitened Gemm/MatMul layers that are factorised go in
     * stages by their input tensor in graph order, each refitted on the model rewritten so far (every other layer —
     * embedding tables, 1×1 convolutions — is rewritten first, so the refits see its error too).
     */
    static LowRankReport apply(OnnxModel model, LowRankOptions options, Analysis analysis, StageFit refit)
            throws java.io.IOException, ai.onnxruntime.OrtException {
        if (options.method() != analysis.method) {
            throw new IllegalArgumentException("the analysis was made with method " + analysis.method
                    + ", not " + options.method());
        }
        if (options.embeddings() && (options.embeddingWeights() != analysis.embeddingWeights
                || !java.util.Objects.equals(options.frequencyFloor(), analysis.frequencyFloor))) {
            throw new IllegalArgumentException("the analysis weighed embedding rows " + analysis.embeddingWeights
                    + (analysis.frequencyFloor == null ? "" : " (floor " + analysis.frequencyFloor + ")")
                    + ", not " + options.embeddingWeights()
                    + (options.frequencyFloor() == null ? "" : " (floor " + options.frequencyFloor() + ")"));
        }
        OnnxGraph graph = model.graph();
        graph.nameNodes();
        long modelBefore = initializerElements(graph);
        // an analysis with embeddings serves options without them, and one of more layers options that skip some
        List<Candidate> candidates = analysis.candidates.stream()
                .filter(c -> options.embeddings() || !c.node().getOpType().equals("Gather"))
                .filter(c -> !options.skip().contains(c.layer().name())).toList();
        Map<String, Integer> ranks = chooseRanks(candidates, options);
        Map<String, LowRankReport.Layer> byName = new LinkedHashMap<>();
        List<List<Candidate>> stages = new ArrayList<>();
        List<Candidate> first = new ArrayList<>();
        if (refit == null) {
            first.addAll(candidates);
        } else {
            Map<String, List<Candidate>> byInput = new LinkedHashMap<>();
            for (Candidate c : candidates) {
                if (c.cholesky() != null && c.saves(ranks.get(c.layer().name()))) {
                    byInput.computeIfAbsent(c.node().getInput(0), k -> new ArrayList<>()).add(c);
                } else {
                    first.add(c);
                }
            }
            // a stage's input is produced before any later stage's (graph order is topological)
            graph.sortTopologically();
            Map<String, Integer> producedAt = new LinkedHashMap<>();
            List<NodeProto> nodes = graph.nodes();
            for (int i = 0; i < nodes.size(); i++) {
                for (String out : nodes.get(i).getOutputList()) {
                    producedAt.put(out, i);
                }
            }
            stages.addAll(byInput.values());
            stages.sort(java.util.Comparator.comparingInt(s -> producedAt.getOrDefault(s.get(0).node().getInput(0), -1)));
        }
        for (Candidate c : first) {
            byName.put(c.layer().name(), rewriteOrLeave(model, c, ranks.get(c.layer().name())));
        }
        for (List<Candidate> stage : stages) {
            graph.sortTopologically();
            for (Candidate c : refit.fit(model, stage, ranks)) {
                byName.put(c.layer().name(), rewriteOrLeave(model, c, ranks.get(c.layer().name())));
            }
        }
        List<LowRankReport.Layer> rows = new ArrayList<>();
        long before = 0;
        long after = 0;
        for (Candidate c : candidates) {
            LowRankReport.Layer row = byName.get(c.layer().name());
            before += row.paramsBefore();
            after += row.paramsAfter();
            rows.add(row);
        }
        rows.addAll(analysis.notEligible);
        graph.removeUnusedInitializers();
        graph.sortTopologically();
        model.putMetadata("anvil.lowrank", (options.energy() != null ? "energy " + options.energy()
                : options.paramRatio() != null ? "param_ratio " + options.paramRatio() : "ranks " + options.ranks())
                + (options.method() == LowRankOptions.Method.SVD ? "" : ", activation_aware")
                + (options.allocation() == LowRankOptions.Allocation.ENERGY ? "" : ", allocation error")
                + (options.embeddings() ? ", embeddings" : "")
                + (options.embeddings() && options.embeddingWeights() == LowRankOptions.EmbeddingWeights.TOKEN_FREQUENCY
                        ? ", token_frequency floor " + options.frequencyFloor() : "")
                + (refit == null ? "" : ", refine sequential"));
        return new LowRankReport(rows, before, after, modelBefore, initializerElements(graph));
    }

    private static LowRankReport.Layer rewriteOrLeave(OnnxModel model, Candidate c, int rank) {
        if (!c.saves(rank)) {
            return new LowRankReport.Layer(c.layer().name(), c.node().getOpType(), c.rows(), c.columns(), rank,
                    c.svd().p(), c.params(), c.params(), c.energyAt(rank), "rank " + rank + " would not save parameters"
                    + " (needs rank below " + divCeil(c.params(), c.rows() + c.columns()) + ")", c.method());
        }
        rewrite(model, c, rank);
        return new LowRankReport.Layer(c.layer().name(), c.node().getOpType(), c.rows(), c.columns(), rank,
                c.svd().p(), c.params(), (long) rank * (c.rows() + c.columns()), c.energyAt(rank), null, c.method());
    }

    private static long initializerElements(OnnxGraph graph) {
        long n = 0;
        for (TensorProto t : graph.initializers().values()) {
            n += Tensors.elementCount(Tensors.dims(t));
        }
        return n;
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

    /** A Gemm/MatMul weight as multiplied (alpha and transB applied), rows × columns, row-major. */
    static double[] weightMatrix(OnnxGraph graph, WeightLayers.Layer layer, NodeProto node) {
        float[] raw = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
        int d0 = (int) layer.dims()[0];
        int d1 = (int) layer.dims()[1];
        boolean gemm = node.getOpType().equals("Gemm");
        boolean transB = gemm && WeightLayers.intAttr(node, "transB", 0) == 1;
        double alpha = gemm ? WeightLayers.floatAttr(node, "alpha", 1f) : 1;
        int columns = transB ? d0 : d1;
        double[] w = new double[d0 * d1];
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
        return w;
    }

    private static Candidate candidate(OnnxGraph graph, WeightLayers.Layer layer, NodeProto node, InputGrams.Gram gram,
            double[] rowWeights) {
        if (node.getOpType().equals("Conv")) { // W[out, in, 1…] as x·W: rows = in, columns = out
            float[] raw = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
            int out = (int) layer.dims()[0];
            int in = (int) layer.dims()[1];
            double[] w = new double[in * out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    w[i * out + o] = raw[o * in + i];
                }
            }
            return new Candidate(layer, node, in, out, JacobiSvd.of(w, in, out), null, null, "svd");
        }
        if (node.getOpType().equals("Gather")) { // the table as it is: vocabulary × width
            float[] raw = Tensors.toFloats(graph.initializer(layer.weight()).orElseThrow());
            int rows = (int) layer.dims()[0];
            int columns = (int) layer.dims()[1];
            double[] w = new double[rows * columns];
            for (int i = 0; i < w.length; i++) {
                w[i] = raw[i];
            }
            if (rowWeights == null) {
                return new Candidate(layer, node, rows, columns, JacobiSvd.of(w, rows, columns), null, null, "svd");
            }
            // weighted PCA: the right singular vectors of D^½·E span the subspace minimising Σ dᵢ‖eᵢ − ê‖²
            double[] scale = new double[rows];
            for (int i = 0; i < rows; i++) {
                scale[i] = Math.sqrt(rowWeights[i]);
                for (int j = 0; j < columns; j++) {
                    w[i * columns + j] *= scale[i];
                }
            }
            return new Candidate(layer, node, rows, columns, JacobiSvd.of(w, rows, columns), null, scale,
                    "token_frequency");
        }
        double[] w = weightMatrix(graph, layer, node);
        boolean transB = node.getOpType().equals("Gemm") && WeightLayers.intAttr(node, "transB", 0) == 1;
        int rows = (int) layer.dims()[transB ? 1 : 0];
        int columns = (int) layer.dims()[transB ? 0 : 1];
        if (gram == null) {
            return new Candidate(layer, node, rows, columns, JacobiSvd.of(w, rows, columns), null, null, "svd");
        }
        if (gram.d() != rows) {
            throw new IllegalArgumentException("the calibration input '" + node.getInput(0) + "' of layer '"
                    + layer.name() + "' is " + gram.d() + " wide, but the layer multiplies vectors of " + rows
                    + "; the calibration dataset does not fit this model");
        }
        if (gram.rows() == 0) {
            throw new IllegalArgumentException("the calibration dataset gave no rows for input '" + node.getInput(0)
                    + "' of layer '" + layer.name() + "' (every position masked?)");
        }
        double[] l = Whitening.cholesky(gram.g(), rows, DAMPING);
        return new Candidate(layer, node, rows, columns, JacobiSvd.of(Whitening.ltTimes(l, w, rows, columns), rows,
                columns), l, null, "activation_aware");
    }

    static Map<String, Integer> chooseRanks(List<Candidate> candidates, LowRankOptions options) {
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
        long budgetBase = 0;
        for (Candidate c : candidates) {
            budgetBase += c.params();
        }
        double budget = options.paramRatio() * budgetBase;
        if (params(candidates, options, 1e-9) > budget) {
            throw new IllegalArgumentException("param_ratio " + options.paramRatio() + " cannot be reached: even rank 1"
                    + " everywhere keeps " + String.format("%.4f", params(candidates, options, 1e-9) / (double) budgetBase)
                    + " of the parameters");
        }
        if (options.allocation() == LowRankOptions.Allocation.ERROR) {
            return byError(candidates, options, budget);
        }
        // one energy level for all: the highest whose parameters fit the budget (bisection; params fall with energy)
        double lo = 0;
        double hi = 1;
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

    /**
     * Each layer takes the rank minimising (1 − energy kept) + λ·parameters, and λ is the smallest (by bisection on
     * its logarithm) whose ranks fit the budget; the per-layer minimum is exact (every rank is tried), so a layer
     * whose saving starts only below some rank is weighed correctly.
     */
    private static Map<String, Integer> byError(List<Candidate> candidates, LowRankOptions options, double budget) {
        List<double[]> tails = new ArrayList<>(); // tail[r] = 1 − energy kept at rank r
        for (Candidate c : candidates) {
            double[] s = c.svd().s();
            double total = 0;
            for (double v : s) {
                total += v * v;
            }
            double[] tail = new double[s.length + 1];
            for (int r = s.length - 1; r >= 0; r--) {
                tail[r] = tail[r + 1] + (total == 0 ? 0 : s[r] * s[r] / total);
            }
            tails.add(tail);
        }
        double lo = Math.log(1e-15);
        double hi = Math.log(10.0);
        Map<String, Integer> best = ranksAt(candidates, options, tails, Math.exp(hi));
        for (int i = 0; i < 60; i++) {
            double mid = (lo + hi) / 2;
            Map<String, Integer> at = ranksAt(candidates, options, tails, Math.exp(mid));
            if (paramsOf(candidates, at) <= budget) {
                hi = mid;
                best = at;
            } else {
                lo = mid;
            }
        }
        return best;
    }

    private static Map<String, Integer> ranksAt(List<Candidate> candidates, LowRankOptions options, List<double[]> tails,
            double lambda) {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (int i = 0; i < candidates.size(); i++) {
            Candidate c = candidates.get(i);
            Integer explicit = options.ranks().get(c.layer().name());
            if (explicit != null) {
                ranks.put(c.layer().name(), explicit);
                continue;
            }
            double[] tail = tails.get(i);
            int bestRank = c.svd().p();
            double bestCost = lambda * c.params(); // left whole: no error
            for (int r = 1; r < c.svd().p() && c.saves(r); r++) {
                double cost = tail[r] + lambda * c.paramsAt(r);
                if (cost < bestCost) {
                    bestCost = cost;
                    bestRank = r;
                }
            }
            ranks.put(c.layer().name(), bestRank);
        }
        return ranks;
    }

    private static long paramsOf(List<Candidate> candidates, Map<String, Integer> ranks) {
        long total = 0;
        for (Candidate c : candidates) {
            total += c.paramsAt(ranks.get(c.layer().name()));
        }
        return total;
    }

    private static long params(List<Candidate> candidates, LowRankOptions options, double energy) {
        long total = 0;
        for (Candidate c : candidates) {
            Integer explicit = options.ranks().get(c.layer().name());
            int r = explicit != null ? explicit : c.rankFor(energy);
            total += c.paramsAt(r);
        }
        return total;
    }

    static void rewrite(OnnxModel model, Candidate c, int rank) {
        OnnxGraph graph = model.graph();
        JacobiSvd.Result svd = c.svd();
        int p = svd.p();
        float[] pf = new float[c.rows() * rank]; // U_r·Σ_r
        double[] y = new double[c.rows() * rank];
        for (int i = 0; i < c.rows(); i++) {
            for (int r = 0; r < rank; r++) {
                y[i * rank + r] = svd.u()[i * p + r] * svd.s()[r];
            }
        }
        if (c.cholesky() != null) { // Lᵀ·W ≈ U_r·Σ_r·V_rᵀ, so W ≈ L⁻ᵀ·U_r·Σ_r · V_rᵀ
            y = Whitening.ltSolve(c.cholesky(), y, c.rows(), rank);
        }
        if (c.rowScale() != null) { // D^½·E ≈ U_r·Σ_r·V_rᵀ, and D^-½·U_r·Σ_r = E·V_r: each row's projection
            for (int i = 0; i < c.rows(); i++) {
                for (int r = 0; r < rank; r++) {
                    y[i * rank + r] /= c.rowScale()[i];
                }
            }
        }
        for (int i = 0; i < y.length; i++) {
            pf[i] = (float) y[i];
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
        if (c.node().getOpType().equals("Gather")) {
            rewriteGather(model, c, rank, pf, qf, pName, qName);
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

    /** Gather(E, ids) → MatMul(Gather(P, ids), Q): the table's rows looked up in P, then mapped back by Q. */
    private static void rewriteGather(OnnxModel model, Candidate c, int rank, float[] pf, float[] qf, String pName,
            String qName) {
        OnnxGraph graph = model.graph();
        WeightLayers.addInitializer(model, Tensors.floats(pName, new long[] {c.rows(), rank}, pf));
        WeightLayers.addInitializer(model, Tensors.floats(qName, new long[] {rank, c.columns()}, qf));
        NodeProto.Builder node = WeightLayers.nodeBuilder(graph, c.node().getName());
        String output = node.getOutput(0);
        String reduced = graph.uniqueName(output + "_lowrank");
        node.setInput(0, pName).setOutput(0, reduced);
        graph.addNode(NodeProto.newBuilder().setOpType("MatMul").setName(graph.uniqueName(node.getName() + "_lowrank_Q"))
                .addInput(reduced).addInput(qName).addOutput(output).build());
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
