package dev.anvil.workflows.rollout;

import java.util.List;

/** A rollout in flight, as its query answers: state, current weight and step, analyses so far. */
public record RolloutStatus(String state, int weight, int step, int steps, int extensions, String pausedReason,
                            List<Analysis> analyses) {
}
