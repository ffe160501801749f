package dev.anvil.workflows.approval;

import java.util.List;

/**
 * A reviewer's decision as the API delivers it in the {@code decide} Update. {@code roles} are the
 * roles the API authenticated; the workflow's validator checks them again, with the four-eyes rule.
 */
public record ApprovalDecision(String taskId, String reviewer, List<String> roles, String decision, String comment) {
    public static final String APPROVE = "approve";
    public static final String REJECT = "reject";
}
