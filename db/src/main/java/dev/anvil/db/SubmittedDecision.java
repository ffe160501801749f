package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/**
 * A row of submitted_decisions: a reviewer's decision as the API authenticated it, waiting for the
 * run's workflow to confirm it ({@code submitted}), counted ({@code accepted}) or turned down
 * ({@code refused}, with the reason).
 */
public record SubmittedDecision(
        String id,
        String approvalId,
        String principal,
        List<String> roles,
        String decision,
        String comment,
        String state,
        String refusalType,
        String refusal,
        String settledBy,
        Instant submittedAt,
        Instant settledAt) {

    public static final String SUBMITTED = "submitted";
    public static final String ACCEPTED = "accepted";
    public static final String REFUSED = "refused";
}
