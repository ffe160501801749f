package dev.anvil.db;

/**
 * Who changes an endpoint's traffic and why, for the audit row {@link EndpointStore} writes with the
 * change. A change made for a rollout names it: a rollout may steer only the canary it set.
 *
 * @param actor   who made the change (an authenticated caller, or "anvil" for Anvil itself)
 * @param reason  why, or null
 * @param rollout    the rollout the change is made for, or null for a change by hand
 * @param breakGlass whether an admin put a version on traffic without the evidence production needs, for
 *                   {@code reason}: the store records it as endpoint.break_glass beside the change
 */
public record TrafficChange(String actor, String reason, String rollout, boolean breakGlass) {

    public TrafficChange {
        if (actor == null || actor.isBlank()) {
            throw new IllegalArgumentException("a traffic change names who makes it: actor is required");
        }
        if (breakGlass && (reason == null || reason.isBlank() || rollout != null)) {
            throw new IllegalArgumentException("breaking glass is a change by hand with a reason");
        }
    }

    public TrafficChange(String actor, String reason, String rollout) {
        this(actor, reason, rollout, false);
    }

    /** A change an administrator makes by hand (REST). */
    public static TrafficChange byHand(String actor, String reason) {
        return new TrafficChange(actor, reason, null);
    }

    /**
     * A change an administrator makes by hand that puts a version on traffic without the evidence production
     * needs (no passed gate and approval on record), for {@code reason}.
     */
    public static TrafficChange breakingGlass(String actor, String reason) {
        return new TrafficChange(actor, reason, null, true);
    }

    /** A change a rollout makes to the canary it manages. */
    public static TrafficChange forRollout(String rollout, String actor, String reason) {
        if (rollout == null || rollout.isBlank()) {
            throw new IllegalArgumentException("a rollout's traffic change names the rollout");
        }
        return new TrafficChange(actor, reason, rollout);
    }
}
