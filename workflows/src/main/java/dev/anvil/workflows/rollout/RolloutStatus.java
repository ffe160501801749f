package dev.anvil.workflows.rollout;

import java.util.List;

/**
 * A rollout in flight, as its query answers: state, current weight and step, analyses so far. {@code step} is the
 * index of the current weight in the request's steps, from 0; people read it as step {@code step + 1} of
 * {@code steps} (the UI's rollout page and {@code anvil rollouts watch} do).
 */
public record RolloutStatus(String state, int weight, int step, int steps, int extensions, String pausedReason,
                            List<Analysis> analyses) {
}
