package dev.anvil.api.auth;

/** What a token lets its holder do. Names as stored in api_tokens.roles. */
public enum Role {
    /** Registers pipelines, starts, cancels and retries runs, uploads artifacts. */
    SUBMITTER,
    /** Decides approvals (never on their own runs). */
    REVIEWER,
    /** Makes tokens; may do what a submitter may, but decides no approvals unless also a reviewer. */
    ADMIN;

    public String wireName() {
        return name().toLowerCase();
    }
}
