package dev.anvil.workflows.approval;

/** ApplicationFailure types of refused decisions and ended approvals; the API maps them to HTTP statuses. */
public final class ApprovalFailures {
    /** The reviewer lacks the reviewer role (403). */
    public static final String NOT_REVIEWER = "ApprovalNotReviewer";
    /** The submitter of the run tried to approve it (403). */
    public static final String FOUR_EYES = "ApprovalFourEyes";
    /** No approval of that task is waiting (409). */
    public static final String NOT_PENDING = "ApprovalNotPending";
    /** This reviewer already decided, or this decision was already used (409). */
    public static final String ALREADY_DECIDED = "ApprovalAlreadyDecided";
    /**
     * Not a decision submitted through Anvil's API for this approval: no such id, another approval's,
     * or a {@code decide} Update naming a reviewer instead of an id (409).
     */
    public static final String UNKNOWN_DECISION = "ApprovalUnknownDecision";
    /** Not approve/reject, or a reject without a comment (400). */
    public static final String INVALID_DECISION = "ApprovalInvalidDecision";
    /** The task failed because a reviewer rejected. */
    public static final String REJECTED = "ApprovalRejected";
    /** The task failed because nobody decided in time. */
    public static final String EXPIRED = "ApprovalExpired";

    private ApprovalFailures() {}
}
