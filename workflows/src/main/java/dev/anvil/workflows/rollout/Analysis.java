package dev.anvil.workflows.rollout;

/**
 * The verdict on one window of a step: the canary's traffic, errors and p95 latency against the
 * stable version's, and why it passes, fails or says nothing yet.
 *
 * <p>window counts the rollout's analysed windows from 1 and analysedAtMillis is the workflow's clock when
 * the window closed, so each window is recorded once however often an activity hands it on; both are 0 in an
 * analysis made before they existed (it is then kept only as the rollout's latest). p95 values of a version
 * that served nothing in the window are 0 here and recorded as not measured.
 */
public record Analysis(
        String verdict,
        int weight,
        long canaryRequests,
        long canaryErrors,
        double canaryErrorRate,
        double canaryP95Ms,
        long stableRequests,
        double stableP95Ms,
        double p95LatencyRatio,
        String reason,
        long stableErrors,
        int window,
        long analysedAtMillis) {

    public static final String PASS = "pass";
    public static final String FAIL = "fail";
    public static final String INCONCLUSIVE = "inconclusive";

    /**
     * Judges a window. Errors decide first, even on little traffic, when they are already too many
     * for min_requests to dilute; otherwise too little canary traffic is inconclusive, never a
     * pass. Latency compares p95s (histogram bucket bounds, about 19 % apart) against the stable
     * version's window, or its last p95 seen ({@code stableBaselineP95Micros}) when the stable
     * version had no traffic (weight 100).
     */
    public static Analysis evaluate(int weight, VersionCounts stable, VersionCounts canary, long minRequests,
                                    double maxErrorRate, double maxP95LatencyRatio, long stableBaselineP95Micros) {
        long canaryP95 = canary.p95Micros();
        long stableP95 = stable.requests() > 0 ? stable.p95Micros() : stableBaselineP95Micros;
        double ratio = canaryP95 > 0 && stableP95 > 0 ? (double) canaryP95 / stableP95 : 0;
        double errorRate = canary.errorRate();
        String verdict;
        String reason;
        if (canary.errors() > maxErrorRate * Math.max(minRequests, canary.requests())) {
            verdict = FAIL;
            reason = String.format(java.util.Locale.ROOT, "canary failed %d of %d requests (error rate %.4f) at weight %d%%;"
                    + " max_error_rate is %.4f", canary.errors(), canary.requests(), errorRate, weight, maxErrorRate);
        } else if (canary.requests() < minRequests) {
            verdict = INCONCLUSIVE;
            reason = "canary served " + canary.requests() + " requests at weight " + weight
                    + "%, fewer than min_requests " + minRequests;
        } else if (ratio > maxP95LatencyRatio) {
            verdict = FAIL;
            reason = String.format(java.util.Locale.ROOT, "canary p95 latency %.3f ms is %.2fx the stable version's %.3f ms"
                    + " at weight %d%%; max_p95_latency_ratio is %.2f", canaryP95 / 1000.0, ratio, stableP95 / 1000.0,
                    weight, maxP95LatencyRatio);
        } else {
            verdict = PASS;
            reason = String.format(java.util.Locale.ROOT, "canary served %d requests at weight %d%% with error rate %.4f"
                    + (ratio > 0 ? " and p95 latency ratio %.2f" : " (no stable latency to compare)"),
                    canary.requests(), weight, errorRate, ratio);
        }
        return new Analysis(verdict, weight, canary.requests(), canary.errors(), errorRate, canaryP95 / 1000.0,
                stable.requests(), stableP95 / 1000.0, ratio, reason, stable.errors(), 0, 0);
    }

    /** This analysis as the rollout's window number {@code window}, closed at {@code analysedAtMillis}. */
    public Analysis numbered(int window, long analysedAtMillis) {
        return new Analysis(verdict, weight, canaryRequests, canaryErrors, canaryErrorRate, canaryP95Ms, stableRequests,
                stableP95Ms, p95LatencyRatio, reason, stableErrors, window, analysedAtMillis);
    }
}
