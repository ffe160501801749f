package dev.anvil.activities.rollout;

/**
 * A rollout that may not start, with the HTTP status that says why: 400 a spec that gathers no evidence
 * (naming {@code field}), 403 a candidate without the evidence production needs, 409 a candidate or an
 * endpoint that does not fit (no such endpoint or artifact, a different signature).
 */
public final class RolloutRefused extends RuntimeException {
    private final int status;
    private final String field;

    public RolloutRefused(int status, String field, String message) {
        super(message);
        this.status = status;
        this.field = field;
    }

    public int status() {
        return status;
    }

    /** The spec's field at fault, null when it is not one field. */
    public String field() {
        return field;
    }
}
