package dev.anvil.api.runs;

import dev.anvil.db.PipelineRun;
import dev.anvil.db.RunAdmissionStore;
import java.util.Optional;

/**
 * Why a queued run has not started: its pipeline's {@code max_active_runs} was reached when it was queued. One
 * wording for the REST answer ({@code GET /api/runs/{id}}'s {@code waiting}) and the reviewer UI, so both say the
 * same.
 */
public final class RunWaiting {
    private RunWaiting() {
    }

    /** The reason in full, or null when the run does not wait (no wait row, admitted, or ended). */
    public static String reason(PipelineRun run, Optional<RunAdmissionStore.Waiting> wait) {
        return waiting(run, wait).map(w -> "waits for a slot: max_active_runs " + w.maxActiveRuns() + " of pipeline '"
                + w.pipeline() + "' reached when it was queued; it starts when an active run ends").orElse(null);
    }

    /** The reason in a few words, for a row of a list; null when the run does not wait. */
    public static String brief(PipelineRun run, Optional<RunAdmissionStore.Waiting> wait) {
        return waiting(run, wait).map(w -> "waiting for a slot (max_active_runs " + w.maxActiveRuns() + ")")
                .orElse(null);
    }

    private static Optional<RunAdmissionStore.Waiting> waiting(PipelineRun run, Optional<RunAdmissionStore.Waiting> wait) {
        return wait.filter(w -> w.admittedAt() == null && !run.isTerminal());
    }
}
