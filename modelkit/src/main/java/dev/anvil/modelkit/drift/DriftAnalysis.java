package dev.anvil.modelkit.drift;

import java.util.ArrayList;
import java.util.List;

/**
 * Compares a live window with a reference, feature by feature (PSI over the reference's quantile bins and the
 * two-sample KS test) and on the predicted classes (chi-square and PSI of the class counts against the
 * reference's class shares). Both sides are columns: {@code reference[f]} and {@code live[f]} hold feature f's
 * values.
 */
public final class DriftAnalysis {
    private DriftAnalysis() {
    }

    /** One feature's comparison; {@code drifted} when PSI or the KS p-value crosses its threshold. */
    public record FeatureDrift(int index, String name, double psi, double ks, double ksPValue, boolean drifted,
                               double[] edges, long[] referenceCounts, long[] liveCounts) {
    }

    /** The predicted classes' comparison, by class index. */
    public record ClassDrift(double psi, double chiSquare, int degreesOfFreedom, double pValue, boolean drifted,
                             long[] referenceCounts, long[] liveCounts) {
    }

    /**
     * @param names          a name per feature (e.g. {@code x[3]})
     * @param referenceClass class counts of the reference (its labels), or null when it has none
     * @param liveClass      class counts of the live window, or null when the endpoint's output has no classes
     * @throws IllegalArgumentException when the feature counts differ (naming both) or a side is empty
     */
    public static List<FeatureDrift> features(List<String> names, double[][] reference, double[][] live,
                                              DriftThresholds thresholds) {
        if (reference.length != live.length || names.size() != reference.length) {
            throw new IllegalArgumentException("the reference has " + reference.length + " features and the live"
                    + " window " + live.length + "; they must describe the same input");
        }
        List<FeatureDrift> out = new ArrayList<>(reference.length);
        for (int f = 0; f < reference.length; f++) {
            Bins bins = Bins.quantiles(reference[f], thresholds.bins());
            long[] ref = bins.counts(reference[f]);
            long[] now = bins.counts(live[f]);
            double psi = ref.length < 2 ? 0 : DriftStatistics.psi(ref, now);
            DriftStatistics.Ks ks = DriftStatistics.ks(reference[f], live[f]);
            boolean drifted = psi > thresholds.psi() || ks.pValue() < thresholds.pValue();
            out.add(new FeatureDrift(f, names.get(f), psi, ks.statistic(), ks.pValue(), drifted, bins.edges(), ref,
                    now));
        }
        return out;
    }

    /** The classes' comparison; both arrays are indexed by class and padded to the same length. */
    public static ClassDrift classes(long[] referenceCounts, long[] liveCounts, DriftThresholds thresholds) {
        int k = Math.max(2, Math.max(referenceCounts.length, liveCounts.length));
        long[] ref = java.util.Arrays.copyOf(referenceCounts, k);
        long[] now = java.util.Arrays.copyOf(liveCounts, k);
        double psi = DriftStatistics.psi(ref, now);
        DriftStatistics.ChiSquare chi = DriftStatistics.chiSquare(ref, now);
        boolean drifted = psi > thresholds.psi() || chi.pValue() < thresholds.pValue();
        return new ClassDrift(psi, chi.statistic(), chi.degreesOfFreedom(), chi.pValue(), drifted, ref, now);
    }
}
