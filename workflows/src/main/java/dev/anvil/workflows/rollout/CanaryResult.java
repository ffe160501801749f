package dev.anvil.workflows.rollout;

import java.util.List;

/**
 * How a rollout ended: {@code promoted}, {@code rolled_back} (its analysis failed) or
 * {@code aborted} (a person stopped it), with every window's analysis in order.
 */
public record CanaryResult(String state, String endpoint, String model, int stableVersion, int candidateVersion,
                           String reason, String decidedBy, List<Analysis> analyses) {
}
