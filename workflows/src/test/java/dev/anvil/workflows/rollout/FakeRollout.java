package dev.anvil.workflows.rollout;

import java.util.ArrayList;
import java.util.List;

/**
 * A gateway and registry stand-in for workflow tests: every metrics read adds a batch of traffic
 * split by the current weight, with the canary's error rate and latency set by the test. Public for the
 * pipeline's canary tests, which run the rollout as a child workflow.
 */
public final class FakeRollout implements RolloutActivities {
    public static final int STABLE = 1;
    public static final int CANDIDATE = 2;

    private final int trafficPerWindow;
    private final double canaryErrorRate;
    private final int canarySlowdownBuckets;
    private int weight;
    private VersionCounts stable = VersionCounts.empty(STABLE);
    private VersionCounts canary = VersionCounts.empty(CANDIDATE);
    public final List<Integer> weights = new ArrayList<>();
    public final List<String> states = new ArrayList<>();
    public final List<String> finishes = new ArrayList<>();

    public FakeRollout(int trafficPerWindow, double canaryErrorRate, int canarySlowdownBuckets) {
        this.trafficPerWindow = trafficPerWindow;
        this.canaryErrorRate = canaryErrorRate;
        this.canarySlowdownBuckets = canarySlowdownBuckets;
    }

    @Override
    public synchronized RolloutStart begin(CanaryRequest request) {
        return new RolloutStart("digits", STABLE, CANDIDATE);
    }

    @Override
    public synchronized void setWeight(String rolloutId, String endpoint, int weight, String state, Analysis analysis) {
        if (weights.isEmpty() || weights.get(weights.size() - 1) != weight) {
            weights.add(weight);
        }
        states.add(state);
        this.weight = weight;
    }

    @Override
    public synchronized EndpointCounts readCounts(String endpoint) {
        long toCanary = (long) trafficPerWindow * weight / 100;
        long toStable = trafficPerWindow - toCanary;
        int stableBucket = LatencyBuckets.indexOf(800);
        stable = add(stable, toStable, 0, stableBucket);
        canary = add(canary, toCanary, Math.round(toCanary * canaryErrorRate), stableBucket + canarySlowdownBuckets);
        return new EndpointCounts(endpoint, List.of(stable, canary));
    }

    @Override
    public synchronized void rollBack(String rolloutId, String endpoint, String state, Analysis analysis, String actor,
                                      String reason) {
        finishes.add(state + " by " + actor);
        weight = 0;
    }

    @Override
    public synchronized void promote(CanaryRequest request, RolloutStart start, Analysis analysis, String actor,
                                     String reason) {
        finishes.add("promoted by " + actor);
    }

    private static VersionCounts add(VersionCounts c, long requests, long errors, int bucket) {
        List<Long> buckets = new ArrayList<>(c.latencyBuckets());
        buckets.set(bucket, buckets.get(bucket) + requests);
        return new VersionCounts(c.version(), c.requests() + requests, c.errors() + errors, buckets);
    }
}
