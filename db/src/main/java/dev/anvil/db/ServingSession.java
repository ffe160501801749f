package dev.anvil.db;

import java.time.Instant;

/**
 * A serving process's report on one model artifact: {@code loaded}, or {@code failed} with the reason.
 *
 * @param updatedAt when the process last confirmed the report (it re-touches its rows while it lives)
 */
public record ServingSession(String processId, String sha256, String state, String error, Instant updatedAt) {
    public static final String LOADED = "loaded";
    public static final String FAILED = "failed";

    public boolean loaded() {
        return LOADED.equals(state);
    }
}
