package dev.anvil.db;

/**
 * Who changes an endpoint's traffic and why, for the audit row {@link EndpointStore} writes with the
 * change. A change made for a rollout names it: a rollout may steer only the canary it set.
 *
 * @param actor   who made the change (an authenticated caller, or "anvil" for Anvil itself)
 * @param reason  why, or null
 * @param rollout the rollout the change is made for, or null for a change by hand
 */
public record TrafficChange(String actor, String reason, String rollout) {

    public TrafficChange {
        if (actor == null || actor.isBlank()) {
            throw new IllegalArgumentException("a traffic change names who makes it: actor is required");
        }
    }

    /** A change an administrator makes by hand (REST). */
    public static TrafficChange byHand(String actor, String reason) {
        return new TrafficChange(actor, reason, null);
    }

    /** A change a rollout makes to the canary it manages. */
    public static TrafficChange forRollout(String rollout, String actor, String reason) {
        if (rollout == null || rollout.isBlank()) {
            throw new IllegalArgumentException("a rollout's traffic change names the rollout");
        }
        return new TrafficChange(actor, reason, rollout);
    }
}
