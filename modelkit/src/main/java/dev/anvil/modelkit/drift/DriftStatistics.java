package dev.anvil.modelkit.drift;

import java.util.Arrays;

/**
 * The two-sample statistics a drift check compares a live window with its reference by: the population
 * stability index over shared bins, the Kolmogorov–Smirnov statistic with its asymptotic p-value, and
 * Pearson's chi-square on category counts. Pure functions over arrays; no state.
 */
public final class DriftStatistics {
    /** A proportion below this counts as this much, so an empty bin does not make PSI infinite (the usual 1e-4). */
    public static final double PSI_FLOOR = 1e-4;

    private DriftStatistics() {
    }

    /** A two-sample Kolmogorov–Smirnov result: the largest gap between the empirical CDFs and its p-value. */
    public record Ks(double statistic, double pValue) {
    }

    /** A chi-square test result: Pearson's statistic, its degrees of freedom and the p-value. */
    public record ChiSquare(double statistic, int degreesOfFreedom, double pValue) {
    }

    /**
     * PSI = Σ (a − e) · ln(a / e) over bins, with a and e the bins' shares of the actual (live) and expected
     * (reference) counts, each floored at {@link #PSI_FLOOR}. Rules of thumb: under 0.1 stable, 0.1–0.25 a
     * moderate shift, above 0.25 a large one.
     *
     * @throws IllegalArgumentException when the arrays differ in length or either has no counts
     */
    public static double psi(long[] expected, long[] actual) {
        if (expected.length != actual.length) {
            throw new IllegalArgumentException("PSI needs the same bins on both sides; the reference has "
                    + expected.length + " bins and the live window " + actual.length);
        }
        double e = total(expected, "reference");
        double a = total(actual, "live window");
        double psi = 0;
        for (int i = 0; i < expected.length; i++) {
            double pe = Math.max(expected[i] / e, PSI_FLOOR);
            double pa = Math.max(actual[i] / a, PSI_FLOOR);
            psi += (pa - pe) * Math.log(pa / pe);
        }
        return psi;
    }

    /**
     * Two-sample Kolmogorov–Smirnov: D = sup |F_a(x) − F_b(x)|, and the asymptotic p-value
     * Q_KS((√n_e + 0.12 + 0.11/√n_e) · D) with n_e = n·m/(n+m) (Stephens' approximation, as in Numerical
     * Recipes' {@code kstwo}); it is close for n_e of 4 and above.
     *
     * @throws IllegalArgumentException when either sample is empty or holds NaN
     */
    public static Ks ks(double[] a, double[] b) {
        if (a.length == 0 || b.length == 0) {
            throw new IllegalArgumentException("Kolmogorov–Smirnov needs values on both sides; got " + a.length
                    + " and " + b.length);
        }
        double[] x = sortedFinite(a, "first");
        double[] y = sortedFinite(b, "second");
        int i = 0;
        int j = 0;
        double d = 0;
        while (i < x.length && j < y.length) {
            double v = Math.min(x[i], y[j]);
            while (i < x.length && x[i] == v) {
                i++;
            }
            while (j < y.length && y[j] == v) {
                j++;
            }
            d = Math.max(d, Math.abs((double) i / x.length - (double) j / y.length));
        }
        double ne = (double) x.length * y.length / (x.length + y.length);
        double sqrt = Math.sqrt(ne);
        return new Ks(d, kolmogorovQ((sqrt + 0.12 + 0.11 / sqrt) * d));
    }

    /**
     * The Kolmogorov distribution's tail Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}: the probability of a scaled
     * gap at least λ when both samples come from one distribution.
     */
    public static double kolmogorovQ(double lambda) {
        if (lambda < 1e-3) {
            return 1.0;
        }
        double sum = 0;
        double sign = 1;
        double previous = 0;
        for (int k = 1; k <= 100; k++) {
            double term = sign * 2 * Math.exp(-2 * k * k * lambda * lambda);
            sum += term;
            if (Math.abs(term) <= 1e-10 * Math.abs(previous) || Math.abs(term) <= 1e-16 * sum) {
                return clamp(sum);
            }
            sign = -sign;
            previous = term;
        }
        return 1.0; // the series did not settle: only for tiny λ, where the answer is 1
    }

    /**
     * Pearson's chi-square test of live category counts against the reference's shares: Σ (o − E)² / E with
     * E = share · n_live, over categories with a reference share above zero; a live count in a category the
     * reference never had is moved to that floor ({@link #PSI_FLOOR}) so it counts heavily instead of dividing
     * by zero. Degrees of freedom: categories − 1.
     *
     * @throws IllegalArgumentException when the arrays differ in length, or there are fewer than two categories
     */
    public static ChiSquare chiSquare(long[] reference, long[] live) {
        if (reference.length != live.length) {
            throw new IllegalArgumentException("chi-square needs the same categories on both sides; the reference has "
                    + reference.length + " and the live window " + live.length);
        }
        if (reference.length < 2) {
            throw new IllegalArgumentException("chi-square needs at least two categories; got " + reference.length);
        }
        double r = total(reference, "reference");
        double n = total(live, "live window");
        double statistic = 0;
        for (int i = 0; i < reference.length; i++) {
            double expected = Math.max(reference[i] / r, PSI_FLOOR) * n;
            double diff = live[i] - expected;
            statistic += diff * diff / expected;
        }
        int df = reference.length - 1;
        return new ChiSquare(statistic, df, upperRegularizedGamma(df / 2.0, statistic / 2.0));
    }

    /** Q(s, x) = Γ(s, x) / Γ(s): the chi-square survival function is Q(df/2, χ²/2). */
    public static double upperRegularizedGamma(double s, double x) {
        if (x <= 0) {
            return 1.0;
        }
        if (x < s + 1) {
            // series for P(s, x)
            double term = 1 / s;
            double sum = term;
            for (int n = 1; n < 1000; n++) {
                term *= x / (s + n);
                sum += term;
                if (Math.abs(term) < Math.abs(sum) * 1e-15) {
                    break;
                }
            }
            return clamp(1 - sum * Math.exp(-x + s * Math.log(x) - logGamma(s)));
        }
        // Lentz's continued fraction for Q(s, x)
        double b = x + 1 - s;
        double c = 1 / 1e-300;
        double d = 1 / b;
        double h = d;
        for (int i = 1; i < 1000; i++) {
            double an = -i * (i - s);
            b += 2;
            d = an * d + b;
            if (Math.abs(d) < 1e-300) {
                d = 1e-300;
            }
            c = b + an / c;
            if (Math.abs(c) < 1e-300) {
                c = 1e-300;
            }
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.abs(delta - 1) < 1e-15) {
                break;
            }
        }
        return clamp(Math.exp(-x + s * Math.log(x) - logGamma(s)) * h);
    }

    /** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9), good to about 15 digits. */
    static double logGamma(double x) {
        double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7};
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        }
        x -= 1;
        double a = g[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) {
            a += g[i] / (x + i);
        }
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }

    private static double total(long[] counts, String what) {
        long sum = 0;
        for (long c : counts) {
            if (c < 0) {
                throw new IllegalArgumentException("the " + what + " has a negative count " + c);
            }
            sum += c;
        }
        if (sum == 0) {
            throw new IllegalArgumentException("the " + what + " has no counts");
        }
        return sum;
    }

    private static double[] sortedFinite(double[] values, String which) {
        double[] copy = values.clone();
        for (double v : copy) {
            if (Double.isNaN(v)) {
                throw new IllegalArgumentException("the " + which + " sample holds NaN");
            }
        }
        Arrays.sort(copy);
        return copy;
    }

    private static double clamp(double p) {
        return Math.max(0, Math.min(1, p));
    }
}
