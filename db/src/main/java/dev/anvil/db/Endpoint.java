package dev.anvil.db;

import java.time.Instant;

/**
 * A row of endpoints: the gateway serves stableVersion of model under name, and sends canaryWeight
 * percent of requests to canaryVersion when there is one. Anyone may call inference on it when
 * publicInference is set; otherwise only callers with the invoker role. canaryRollout is the rollout
 * that manages the canary (null for a canary set by hand, or no canary).
 */
public record Endpoint(
        String name,
        String model,
        int stableVersion,
        Integer canaryVersion,
        int canaryWeight,
        boolean publicInference,
        Instant updatedAt,
        String canaryRollout) {

    public boolean hasCanary() {
        return canaryVersion != null;
    }
}
