package dev.anvil.workflows.approval;

import java.util.List;

/** The answer to a decision: the approval's state after it, and who approved so far. */
public record ApprovalOutcome(String approvalId, String state, List<String> approvedBy, int requiredApprovals) {}
