package dev.anvil.workflows.rollout;

/** What the rollout begins with: the model and its stable and candidate versions at the endpoint. */
public record RolloutStart(String model, int stableVersion, int candidateVersion) {
}
