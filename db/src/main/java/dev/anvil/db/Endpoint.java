package dev.anvil.db;

import java.time.Instant;

/**
 * A row of endpoints: the gateway serves stableVersion of model under name, and sends canaryWeight
 * percent of requests to canaryVersion when there is one. Anyone may call inference on it when
 * publicInference is set; otherwise only callers with the invoker role.
 */
public record Endpoint(
        String name,
        String model,
        int stableVersion,
        Integer canaryVersion,
        int canaryWeight,
        boolean publicInference,
        Instant updatedAt) {

    public boolean hasCanary() {
        return canaryVersion != null;
    }
}
