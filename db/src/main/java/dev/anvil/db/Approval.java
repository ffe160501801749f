package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/**
 * A row of approvals: a gated task of a run waiting for reviewers. reason says why an approval left
 * pending without a decision (its deadline passed, its run was cancelled, ended or lost), else null.
 */
public record Approval(
        String id,
        String runId,
        String taskId,
        String state,
        int requiredApprovals,
        String requestedBy,
        Instant requestedAt,
        Instant decidedAt,
        String reason) {

    /** Kept in step with approvals_state_check (V6). */
    public static final List<String> STATES = List.of("pending", "approved", "rejected", "expired");

    /** Kept in step with approval_decisions_decision_check (V6). */
    public static final List<String> DECISIONS = List.of("approve", "reject");
}
