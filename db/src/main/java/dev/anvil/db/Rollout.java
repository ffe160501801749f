package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/**
 * A row of rollouts: a canary of candidateVersion against stableVersion (null on a model's first
 * rollout) behind an endpoint; weight is the candidate's percentage of traffic.
 */
public record Rollout(
        String id,
        String endpoint,
        String model,
        Integer stableVersion,
        int candidateVersion,
        String state,
        int weight,
        String analysisJson,
        Instant startedAt,
        Instant finishedAt,
        String reason) {

    /** Kept in step with rollouts_state_check (V22). */
    public static final List<String> STATES =
            List.of("running", "paused", "promoted", "rolled_back", "aborted", "failed");

    /** States a rollout never leaves; failed: its workflow failed or was lost (reason says which). */
    public static final List<String> TERMINAL = List.of("promoted", "rolled_back", "aborted", "failed");
}
