package dev.anvil.workflows.approval;

import java.util.List;

/**
 * The payload of the {@code decide} Update before decisions were recorded in PostgreSQL first: it
 * carried the reviewer's name and roles, which the workflow had to take on trust. The workflow keeps
 * the handler only so that runs decided that way replay; every new {@code decide} is refused. Decisions
 * now arrive as {@link RecordedDecision}s.
 */
public record ApprovalDecision(String taskId, String reviewer, List<String> roles, String decision, String comment) {
    public static final String APPROVE = "approve";
    public static final String REJECT = "reject";
}
