package dev.anvil.workflows.rollout;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** The side effects of a canary rollout: gateway weights, metrics, registry, rollout row, audit. */
@ActivityInterface
public interface RolloutActivities {
    /** Failure type for a rollout that cannot start or go on as asked (no endpoint, a rollout already running). */
    String BAD_ROLLOUT = "BadRollout";

    /** Registers the candidate, records the rollout and gives the endpoint the candidate as canary at weight 0, loaded. */
    @ActivityMethod(name = "RolloutBegin")
    RolloutStart begin(CanaryRequest request);

    /** Sets the canary's weight and records the rollout's state (running or paused) and latest analysis. */
    @ActivityMethod(name = "RolloutSetWeight")
    void setWeight(String rolloutId, String endpoint, int weight, String state, Analysis analysis);

    /** The gateway's cumulative counters for the endpoint's versions, now. */
    @ActivityMethod(name = "RolloutReadCounts")
    EndpointCounts readCounts(String endpoint);

    /** Removes the canary (weight 0) and finishes the rollout as rolled_back or aborted; the registry is untouched. */
    @ActivityMethod(name = "RolloutRollBack")
    void rollBack(String rolloutId, String endpoint, String state, Analysis analysis, String actor, String reason);

    /** The candidate becomes the endpoint's stable version and the model's production alias, with lineage and audit. */
    @ActivityMethod(name = "RolloutPromote")
    void promote(CanaryRequest request, RolloutStart start, Analysis analysis, String actor, String reason);
}
