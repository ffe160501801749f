package dev.anvil.db;

import java.time.Instant;

/**
 * A row of rollout_windows: what one model version of a rollout did in one analysed window. window counts
 * from 1 per rollout; role is canary or stable (version null for the stable side of a model's first rollout).
 * errorRate and p95Ms are null when the version served no request in the window (nothing was measured);
 * verdict and reason are the window's, the same on both of its rows.
 */
public record RolloutWindow(
        String rolloutId,
        int window,
        String role,
        Integer version,
        int weight,
        long requests,
        long errors,
        Double errorRate,
        Double p95Ms,
        String verdict,
        String reason,
        Instant analysedAt) {

    public static final String CANARY = "canary";
    public static final String STABLE = "stable";
    /** Kept in step with rollout_windows_verdict_check (V30). */
    public static final java.util.List<String> VERDICTS = java.util.List.of("pass", "fail", "inconclusive");

    /**
     * One version's side of a window, as measured: the error rate follows from requests and errors, and p95Ms is
     * kept only when the version served something (a histogram of nothing has no p95).
     */
    public static RolloutWindow measured(String rolloutId, int window, String role, Integer version, int weight,
                                         long requests, long errors, double p95Ms, String verdict, String reason,
                                         Instant analysedAt) {
        return new RolloutWindow(rolloutId, window, role, version, weight, requests, errors,
                requests > 0 ? (double) errors / requests : null, requests > 0 ? p95Ms : null, verdict, reason,
                analysedAt);
    }
}
