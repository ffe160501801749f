package dev.anvil.modelkit.drift;

/**
 * When a feature or the predicted classes count as moved: PSI above {@code psi}, or a test's p-value below
 * {@code pValue} (KS for features, chi-square for classes). Windows with fewer than {@code minSamples} live
 * rows are not judged.
 */
public record DriftThresholds(double psi, double pValue, int minSamples, int bins) {
    public static final DriftThresholds DEFAULT = new DriftThresholds(0.2, 0.01, 100, 10);

    public DriftThresholds {
        if (!(psi > 0)) {
            throw new IllegalArgumentException("psi threshold is " + psi + "; it must be above 0 (0.1 to 0.25 is usual)");
        }
        if (!(pValue > 0 && pValue < 1)) {
            throw new IllegalArgumentException("p-value threshold is " + pValue + "; it must lie in (0, 1), e.g. 0.01");
        }
        if (minSamples < 1) {
            throw new IllegalArgumentException("min_samples is " + minSamples + "; at least 1");
        }
        if (bins < 2 || bins > 100) {
            throw new IllegalArgumentException("bins is " + bins + "; between 2 and 100");
        }
    }
}
