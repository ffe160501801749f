package dev.anvil.modelkit.compress;

/**
 * The dense linear algebra activation-aware factorisation needs beside {@link JacobiSvd}: the Cholesky factor of a
 * Gram matrix, Lᵀ·W, and the solve Lᵀ·P = Y. All row-major, in double precision; each inner loop runs along a
 * contiguous row.
 */
final class Whitening {
    private Whitening() {}

    /**
     * The lower-triangular L with L·Lᵀ = G + δ·(trace(G)/n)·I. When G is so near singular that the factorisation
     * fails, δ grows tenfold (up to 1) and it is tried again.
     *
     * @throws IllegalArgumentException when G is zero or not finite
     */
    static double[] cholesky(double[] g, int n, double damping) {
        double trace = 0;
        for (int i = 0; i < n; i++) {
            trace += g[i * n + i];
        }
        if (!(trace > 0) || !Double.isFinite(trace)) {
            throw new IllegalArgumentException("the calibration inputs' second moment has trace " + trace
                    + "; activation-aware factorisation needs inputs that are finite and not all zero");
        }
        for (double delta = damping; delta <= 1; delta *= 10) {
            double[] l = tryCholesky(g, n, delta * trace / n);
            if (l != null) {
                return l;
            }
        }
        throw new IllegalArgumentException("the calibration inputs' second moment is not positive definite even"
                + " with a ridge of its mean diagonal");
    }

    private static double[] tryCholesky(double[] g, int n, double ridge) {
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            int rj = j * n;
            double d = g[rj + j] + ridge;
            for (int k = 0; k < j; k++) {
                d -= l[rj + k] * l[rj + k];
            }
            if (!(d > 0)) {
                return null;
            }
            double ljj = Math.sqrt(d);
            l[rj + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                int ri = i * n;
                double s = g[ri + j];
                for (int k = 0; k < j; k++) {
                    s -= l[ri + k] * l[rj + k];
                }
                l[ri + j] = s / ljj;
            }
        }
        return l;
    }

    /** Lᵀ·W for lower-triangular L (n×n) and W (n×m): row i of the result is Σ_{k≥i} L[k][i]·W[k]. */
    static double[] ltTimes(double[] l, double[] w, int n, int m) {
        double[] out = new double[n * m];
        for (int k = 0; k < n; k++) {
            int wk = k * m;
            for (int i = 0; i <= k; i++) {
                double a = l[k * n + i];
                if (a == 0) {
                    continue;
                }
                int oi = i * m;
                for (int j = 0; j < m; j++) {
                    out[oi + j] += a * w[wk + j];
                }
            }
        }
        return out;
    }

    /** P with Lᵀ·P = Y (Y n×m), by back substitution: P[i] = (Y[i] − Σ_{k>i} L[k][i]·P[k]) / L[i][i]. */
    static double[] ltSolve(double[] l, double[] y, int n, int m) {
        double[] p = y.clone();
        for (int i = n - 1; i >= 0; i--) {
            int pi = i * m;
            for (int k = i + 1; k < n; k++) {
                double a = l[k * n + i];
                if (a == 0) {
                    continue;
                }
                int pk = k * m;
                for (int j = 0; j < m; j++) {
                    p[pi + j] -= a * p[pk + j];
                }
            }
            double d = l[i * n + i];
            for (int j = 0; j < m; j++) {
                p[pi + j] /= d;
            }
        }
        return p;
    }

    /** Y with L·Y = M (M n×m), by forward substitution: Y[i] = (M[i] − Σ_{k<i} L[i][k]·Y[k]) / L[i][i]. */
    static double[] lSolve(double[] l, double[] m, int n, int cols) {
        double[] y = m.clone();
        for (int i = 0; i < n; i++) {
            int yi = i * cols;
            for (int k = 0; k < i; k++) {
                double a = l[i * n + k];
                if (a == 0) {
                    continue;
                }
                int yk = k * cols;
                for (int j = 0; j < cols; j++) {
                    y[yi + j] -= a * y[yk + j];
                }
            }
            double d = l[i * n + i];
            for (int j = 0; j < cols; j++) {
                y[yi + j] /= d;
            }
        }
        return y;
    }

    /** A·B for A (n×k) and B (k×m), row-major. */
    static double[] times(double[] a, double[] b, int n, int k, int m) {
        double[] out = new double[n * m];
        for (int i = 0; i < n; i++) {
            int oi = i * m;
            for (int p = 0; p < k; p++) {
                double v = a[i * k + p];
                if (v == 0) {
                    continue;
                }
                int bp = p * m;
                for (int j = 0; j < m; j++) {
                    out[oi + j] += v * b[bp + j];
                }
            }
        }
        return out;
    }
}
