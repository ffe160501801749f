package dev.anvil.serving;

import dev.anvil.db.ServingSessionsStore;
import java.util.Set;

/**
 * This serving process's reports in PostgreSQL: each version it loaded or failed to load, confirmed on
 * every refresh of the routes, removed when it stops (closing {@link ModelSessions} reports that it holds
 * nothing). Rollouts on any process read them to know when a candidate is ready for traffic.
 */
public final class SessionReports implements ModelSessions.Reports {
    private final ServingSessionsStore store;
    private final String processId;

    public SessionReports(ServingSessionsStore store, String processId) {
        this.store = store;
        this.processId = processId;
    }

    @Override
    public void loaded(String sha256) {
        store.loaded(processId, sha256);
    }

    @Override
    public void failed(String sha256, String error) {
        store.failed(processId, sha256, error);
    }

    @Override
    public void holding(Set<String> sha256s) {
        store.retain(processId, sha256s);
    }
}
