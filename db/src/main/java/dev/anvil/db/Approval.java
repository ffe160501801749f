package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/** A row of approvals: a gated task of a run waiting for reviewers. */
public record Approval(
        String id,
        String runId,
        String taskId,
        String state,
        int requiredApprovals,
        String requestedBy,
        Instant requestedAt,
        Instant decidedAt) {

    /** Kept in step with approvals_state_check (V6). */
    public static final List<String> STATES = List.of("pending", "approved", "rejected", "expired");

    /** Kept in step with approval_decisions_decision_check (V6). */
    public static final List<String> DECISIONS = List.of("approve", "reject");
}
