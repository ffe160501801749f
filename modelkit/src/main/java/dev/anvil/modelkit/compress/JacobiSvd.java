package dev.anvil.modelkit.compress;

/**
 * Thin singular value decomposition A = U·diag(S)·Vᵀ of a dense m×n matrix, singular values descending.
 * The Gram matrix of the smaller side (AᵀA or AAᵀ, p×p with p = min(m, n)) is diagonalised by cyclic
 * Jacobi rotations and the other side's vectors follow as A·v/σ. Jacobi on the p×p Gram costs O(p³) per
 * sweep, against O(m·p²) for one-sided Jacobi on A itself; squaring the matrix loses the relative accuracy
 * of singular values far below the largest, which truncation drops anyway. No linear-algebra library is on
 * the toolkit's class path, and this one need is small.
 */
public final class JacobiSvd {
    private static final int MAX_SWEEPS = 60;

    /** U is m×p, S has p values (descending), V is n×p; all row-major. */
    public record Result(int m, int n, double[] u, double[] s, double[] v) {
        public int p() {
            return s.length;
        }
    }

    private JacobiSvd() {}

    /** Decomposes the row-major m×n matrix {@code a}. */
    public static Result of(double[] a, int m, int n) {
        if (m < n) {
            Result t = of(transpose(a, m, n), n, m);
            return new Result(m, n, t.v(), t.s(), t.u());
        }
        int p = n;
        double[] g = new double[p * p]; // AᵀA
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int j = 0; j < p; j++) {
                double aij = a[row + j];
                if (aij == 0) {
                    continue;
                }
                int gj = j * p;
                for (int k = j; k < p; k++) {
                    g[gj + k] += aij * a[row + k];
                }
            }
        }
        for (int j = 0; j < p; j++) {
            for (int k = 0; k < j; k++) {
                g[j * p + k] = g[k * p + j];
            }
        }
        double[] vecs = new double[p * p];
        for (int i = 0; i < p; i++) {
            vecs[i * p + i] = 1;
        }
        diagonalise(g, vecs, p);
        Integer[] order = new Integer[p];
        for (int i = 0; i < p; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(g[y * p + y], g[x * p + x]));
        double[] s = new double[p];
        double[] v = new double[n * p];
        for (int c = 0; c < p; c++) {
            int src = order[c];
            s[c] = Math.sqrt(Math.max(0, g[src * p + src]));
            for (int r = 0; r < n; r++) {
                v[r * p + c] = vecs[src * p + r];
            }
        }
        double[] u = new double[m * p];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < p; c++) {
                double sum = 0;
                for (int r = 0; r < n; r++) {
                    sum += a[i * n + r] * v[r * p + c];
                }
                u[i * p + c] = s[c] > 1e-300 ? sum / s[c] : 0;
            }
        }
        return new Result(m, n, u, s, v);
    }

    /**
     * Cyclic Jacobi on the symmetric p×p matrix {@code g} (kept whole: each rotation updates rows x and y, which
     * are contiguous, and mirrors them into the columns); accumulates the rotations into {@code vecs}, whose
     * row i holds the i-th eigenvector (also contiguous). Stops when the off-diagonal mass is below 1e-24 of the
     * diagonal's (singular values to about 1e-12 relative).
     */
    private static void diagonalise(double[] g, double[] vecsT, int p) {
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            double diag = 0;
            for (int i = 0; i < p; i++) {
                diag += g[i * p + i] * g[i * p + i];
                for (int j = i + 1; j < p; j++) {
                    off += g[i * p + j] * g[i * p + j];
                }
            }
            if (off <= 1e-24 * diag || off == 0) {
                return;
            }
            for (int x = 0; x < p - 1; x++) {
                for (int y = x + 1; y < p; y++) {
                    double gxy = g[x * p + y];
                    double gxx = g[x * p + x];
                    double gyy = g[y * p + y];
                    if (Math.abs(gxy) <= 1e-18 * Math.sqrt(Math.abs(gxx * gyy)) || gxy == 0) {
                        continue;
                    }
                    double theta = (gyy - gxx) / (2 * gxy);
                    double t = theta == 0 ? 1 : Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    int rx = x * p;
                    int ry = y * p;
                    for (int k = 0; k < p; k++) {
                        double a = g[rx + k];
                        double b = g[ry + k];
                        g[rx + k] = c * a - s * b;
                        g[ry + k] = s * a + c * b;
                    }
                    for (int k = 0; k < p; k++) {
                        g[k * p + x] = g[rx + k];
                        g[k * p + y] = g[ry + k];
                    }
                    g[rx + x] = gxx - t * gxy;
                    g[ry + y] = gyy + t * gxy;
                    g[rx + y] = 0;
                    g[ry + x] = 0;
                    for (int k = 0; k < p; k++) {
                        double a = vecsT[rx + k];
                        double b = vecsT[ry + k];
                        vecsT[rx + k] = c * a - s * b;
                        vecsT[ry + k] = s * a + c * b;
                    }
                }
            }
        }
    }

    private static double[] transpose(double[] a, int m, int n) {
        double[] t = new double[a.length];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                t[j * m + i] = a[i * n + j];
            }
        }
        return t;
    }
}
