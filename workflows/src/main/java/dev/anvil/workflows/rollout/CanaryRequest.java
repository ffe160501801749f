package dev.anvil.workflows.rollout;

import java.util.List;

/**
 * A canary rollout of a candidate model behind a gateway endpoint.
 *
 * @param rolloutId         the rollout's id (also its workflow id), e.g. derived from run and task
 * @param endpoint          the gateway endpoint whose traffic shifts; it must already serve a stable version
 * @param candidateArtifact sha256 of the candidate model, registered as a version of the endpoint's model
 * @param steps             canary weights in percent, increasing, ending at 100 to promote on evidence
 * @param intervalSeconds   how long each step's analysis window lasts
 * @param minRequests       canary requests a window needs before it counts as evidence
 * @param maxExtensions     inconclusive windows a step may add before the rollout pauses for a person
 * @param taskRunId         the pipeline task run that started the rollout, for lineage (null outside a pipeline)
 */
public record CanaryRequest(
        String rolloutId,
        String endpoint,
        String candidateArtifact,
        List<Integer> steps,
        long intervalSeconds,
        long minRequests,
        double maxErrorRate,
        double maxP95LatencyRatio,
        int maxExtensions,
        Long taskRunId,
        String actor) {
}
