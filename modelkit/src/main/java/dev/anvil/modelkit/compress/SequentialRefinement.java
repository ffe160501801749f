package dev.anvil.modelkit.compress;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.OrtSessions;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Error-propagating low rank ({@link LowRankOptions.Refinement#SEQUENTIAL}): the layers are factorised in graph
 * order, and each is fitted not to its own inputs X but to the inputs X' it receives in the model whose earlier
 * layers are already factorised, against the original layer's outputs X·W. With G' = X'ᵀX' + δI = L'·L'ᵀ (the
 * ridge δ as in whitening) and C = X'ᵀX, the ridge least-squares fit W* = G'⁻¹·C·W has L'ᵀ·W* = L'⁻¹·C·W, and the
 * truncated SVD U_r·Σ_r·V_rᵀ of that gives the rank-r factors minimising ‖X'·P·Q − X·W‖² + δ‖P·Q‖²: P = L'⁻ᵀ·U_r·Σ_r,
 * Q = V_rᵀ. A later layer so absorbs what it can of the error of the layers before it. The ranks are those the
 * independent analysis chooses for the same options, so both spend the same parameters.
 *
 * <p>Cost: one pass of the calibration dataset through the original and through the partly factorised model per
 * stage (the layers that read one tensor, such as attention's Q, K and V), accumulating X'ᵀX' and X'ᵀX.
 */
public final class SequentialRefinement {
    private static final int BATCH = 32;
    private static final int BLOCK = 32;

    private SequentialRefinement() {}

    /**
     * Factorises {@code model} in place.
     *
     * @param analysis    the activation-aware analysis of this model ({@link LowRankFactorizer#analyse}); it fixes
     *                    the ranks and factorises the layers outside any stage (embedding tables, 1×1 convolutions)
     * @param calibration the calibration dataset the analysis' statistics came from
     * @param progress    told after each refitted layer (its total is -1: how many layers save parameters is known
     *                    only once the ranks are chosen)
     */
    public static LowRankReport apply(OrtEnvironment env, OnnxModel model, LowRankOptions options,
            LowRankFactorizer.Analysis analysis, Path calibration, int samples, LowRankFactorizer.Progress progress)
            throws IOException, OrtException {
        if (options.refinement() != LowRankOptions.Refinement.SEQUENTIAL) {
            throw new IllegalArgumentException("these options fit each layer alone (refine: none); use"
                    + " LowRankFactorizer.apply");
        }
        if (samples < 1 || samples > InputGrams.MAX_SAMPLES) {
            throw new IllegalArgumentException("calibration samples must be 1 to " + InputGrams.MAX_SAMPLES + ", got "
                    + samples);
        }
        OnnxModel original = OnnxModel.of(model.build());
        int[] done = {0};
        return LowRankFactorizer.apply(model, options, analysis, (current, stage, ranks) -> {
            String tensor = stage.get(0).node().getInput(0);
            Pair pair = measure(env, original, current, tensor, calibration, samples);
            List<LowRankFactorizer.Candidate> refitted = new ArrayList<>();
            for (LowRankFactorizer.Candidate c : stage) {
                refitted.add(refit(current, c, pair));
                progress.layerDone(++done[0], -1);
            }
            return refitted;
        });
    }

    /** X'ᵀX' (symmetric) and X'ᵀX over the same unpadded rows. */
    record Pair(int d, double[] own, double[] cross, long rows) {}

    private static LowRankFactorizer.Candidate refit(OnnxModel current, LowRankFactorizer.Candidate c, Pair pair) {
        int rows = c.rows();
        int columns = c.columns();
        if (pair.d() != rows) {
            throw new IllegalArgumentException("the calibration input '" + c.node().getInput(0) + "' of layer '"
                    + c.layer().name() + "' is " + pair.d() + " wide, but the layer multiplies vectors of " + rows);
        }
        if (pair.rows() == 0) {
            throw new IllegalArgumentException("the calibration dataset gave no rows for input '" + c.node().getInput(0)
                    + "' of layer '" + c.layer().name() + "' (every position masked?)");
        }
        double[] w = LowRankFactorizer.weightMatrix(current.graph(), c.layer(), c.node());
        double[] l = Whitening.cholesky(pair.own(), rows, LowRankFactorizer.DAMPING);
        double[] target = Whitening.times(pair.cross(), w, rows, rows, columns); // X'ᵀX·W
        double[] y = Whitening.lSolve(l, target, rows, columns); // L'ᵀ·W* = L'⁻¹·X'ᵀX·W
        return new LowRankFactorizer.Candidate(c.layer(), c.node(), rows, columns, JacobiSvd.of(y, rows, columns), l,
                null, "activation_aware, sequential");
    }

    /** Runs {@code reference} and {@code current} side by side over the dataset and sums X'ᵀX' and X'ᵀX. */
    static Pair measure(OrtEnvironment env, OnnxModel reference, OnnxModel current, String tensor, Path calibration,
            int samples) throws IOException, OrtException {
        double[] own = null;
        double[] cross = null;
        int d = -1;
        long rows = 0;
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession refSession = OrtSessions.open(env, reference.withFloatOutputs(Set.of(tensor)), so);
                OrtSession curSession = OrtSessions.open(env, current.withFloatOutputs(Set.of(tensor)), so);
                DatasetReader refReader = DatasetReader.open(calibration);
                DatasetReader curReader = DatasetReader.open(calibration);
                DatasetFeed refFeed = DatasetFeed.open(env, refSession, refReader, BATCH, samples);
                DatasetFeed curFeed = DatasetFeed.open(env, curSession, curReader, BATCH, samples)) {
            while (refFeed.hasNext()) {
                try (DatasetFeed.Batch rb = refFeed.next(); DatasetFeed.Batch cb = curFeed.next();
                        OrtSession.Result rr = rb.run(refSession, Set.of(tensor));
                        OrtSession.Result cr = cb.run(curSession, Set.of(tensor))) {
                    float[] x = values(rr, tensor);
                    float[] xc = values(cr, tensor);
                    long[] shape = ((OnnxTensor) rr.get(tensor).orElseThrow()).getInfo().getShape();
                    int width = (int) shape[shape.length - 1];
                    if (x.length != xc.length) {
                        throw new IllegalStateException("tensor '" + tensor + "' has " + x.length + " values in the"
                                + " original model and " + xc.length + " in the factorised one");
                    }
                    if (d < 0) {
                        d = width;
                        own = new double[d * d];
                        cross = new double[d * d];
                    } else if (d != width) {
                        throw new IllegalArgumentException("tensor '" + tensor + "' changed from width " + d + " to "
                                + width + " between batches");
                    }
                    long[] mask = InputGrams.mask(rb);
                    int n = x.length / d;
                    boolean masked = mask != null && shape.length >= 3 && shape[0] == rb.size()
                            && shape[0] * shape[1] == mask.length;
                    long perPosition = masked ? n / mask.length : 1;
                    rows += accumulate(own, cross, x, xc, n, d, masked ? mask : null, perPosition, tensor);
                }
            }
        }
        if (own == null) {
            throw new IllegalArgumentException("the calibration dataset is empty");
        }
        for (int i = 0; i < d; i++) { // mirror the upper triangle
            for (int j = 0; j < i; j++) {
                own[i * d + j] = own[j * d + i];
            }
        }
        return new Pair(d, own, cross, rows);
    }

    private static float[] values(OrtSession.Result result, String tensor) {
        OnnxValue v = result.get(tensor).orElseThrow(() -> new IllegalStateException("tensor '" + tensor
                + "' was not produced by ONNX Runtime"));
        if (!(v instanceof OnnxTensor t) || t.getInfo().type != ai.onnxruntime.OnnxJavaType.FLOAT) {
            throw new IllegalArgumentException("tensor '" + tensor + "' is not float; sequential refinement needs float"
                    + " layer inputs");
        }
        FloatBuffer b = t.getFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    private static long accumulate(double[] own, double[] cross, float[] x, float[] xc, int n, int d, long[] mask,
            long perPosition, String tensor) {
        double[] a = new double[BLOCK * d]; // rows of X' (the factorised model's)
        double[] b = new double[BLOCK * d]; // the same rows of X (the original's)
        int filled = 0;
        long kept = 0;
        for (int r = 0; r < n; r++) {
            if (mask != null && mask[(int) (r / perPosition)] == 0) {
                continue;
            }
            for (int k = 0; k < d; k++) {
                float v = xc[r * d + k];
                float u = x[r * d + k];
                if (!Float.isFinite(v) || !Float.isFinite(u)) {
                    throw new IllegalArgumentException("tensor '" + tensor + "' is not finite on this dataset;"
                            + " sequential refinement needs data that keeps the model finite");
                }
                a[filled * d + k] = v;
                b[filled * d + k] = u;
            }
            kept++;
            if (++filled == BLOCK) {
                InputGrams.accumulate(own, a, filled, d);
                crossAccumulate(cross, a, b, filled, d);
                filled = 0;
            }
        }
        InputGrams.accumulate(own, a, filled, d);
        crossAccumulate(cross, a, b, filled, d);
        return kept;
    }

    /** c += Aᵀ·B for the first {@code count} rows of both blocks. */
    static void crossAccumulate(double[] c, double[] a, double[] b, int count, int d) {
        for (int j = 0; j < d; j++) {
            int cj = j * d;
            for (int r = 0; r < count; r++) {
                int br = r * d;
                double v = a[br + j];
                if (v == 0) {
                    continue;
                }
                for (int k = 0; k < d; k++) {
                    c[cj + k] += v * b[br + k];
                }
            }
        }
    }
}
