package dev.anvil.workflows.rollout;

/** Who asks a rollout to pause, resume, promote or abort, and why (shown in the audit log). */
public record RolloutControl(String actor, String reason) {
}
