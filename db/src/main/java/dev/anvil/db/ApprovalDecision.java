package dev.anvil.db;

import java.time.Instant;

/** A row of approval_decisions: one reviewer's "approve" or "reject" on one approval. */
public record ApprovalDecision(String approvalId, String reviewer, String decision, String comment, Instant decidedAt) {
}
