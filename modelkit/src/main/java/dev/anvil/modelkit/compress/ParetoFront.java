package dev.anvil.modelkit.compress;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The Pareto front of compressed candidates over three costs, each lower-is-better: size on disk, quality
 * drop against the input model (points), latency p50. A candidate is on the front when no other is at least
 * as good on every cost and better on one. A latency that could not be measured (null) takes no part in the
 * comparison of that pair, so a missing figure never pushes a candidate off the front.
 */
public final class ParetoFront {
    /** What the front compares; {@code latencyMs} may be null (not measured). */
    public record Costs(long size, double dropPoints, Double latencyMs) {}

    /** How the choice among candidates within the constraints breaks ties: the first cost decides, then the others. */
    public enum Prefer {
        SIZE, ACCURACY, LATENCY;

        public static Prefer parse(String s) {
            return switch (s) {
                case "size" -> SIZE;
                case "accuracy" -> ACCURACY;
                case "latency" -> LATENCY;
                default -> throw new IllegalArgumentException("prefer must be size, accuracy or latency, got '" + s + "'");
            };
        }
    }

    private ParetoFront() {}

    /** For each candidate, in order, whether it is on the front. */
    public static List<Boolean> onFront(List<Costs> candidates) {
        List<Boolean> out = new ArrayList<>();
        for (Costs c : candidates) {
            out.add(candidates.stream().noneMatch(other -> dominates(other, c)));
        }
        return out;
    }

    /** True when {@code a} is at least as good as {@code b} on every cost and better on one. */
    public static boolean dominates(Costs a, Costs b) {
        boolean latencies = a.latencyMs() != null && b.latencyMs() != null;
        boolean noWorse = a.size() <= b.size() && a.dropPoints() <= b.dropPoints()
                && (!latencies || a.latencyMs() <= b.latencyMs());
        boolean better = a.size() < b.size() || a.dropPoints() < b.dropPoints()
                || latencies && a.latencyMs() < b.latencyMs();
        return noWorse && better;
    }

    /**
     * The index of the candidate chosen among those within both limits: the best by {@code prefer}, ties broken by
     * the other costs (size, drop, latency in that order), so the choice is itself on the front; empty when none
     * is within the limits.
     */
    public static Optional<Integer> choose(List<Costs> candidates, long inputSize, double maxDropPoints,
            double maxSizeRatio, Prefer prefer) {
        Comparator<Costs> bySize = Comparator.comparingLong(Costs::size);
        Comparator<Costs> byDrop = Comparator.comparingDouble(Costs::dropPoints);
        Comparator<Costs> byLatency = Comparator.comparing(Costs::latencyMs, Comparator.nullsLast(Comparator.naturalOrder()));
        Comparator<Costs> order = switch (prefer) {
            case SIZE -> bySize.thenComparing(byDrop).thenComparing(byLatency);
            case ACCURACY -> byDrop.thenComparing(bySize).thenComparing(byLatency);
            case LATENCY -> byLatency.thenComparing(bySize).thenComparing(byDrop);
        };
        Integer best = null;
        for (int i = 0; i < candidates.size(); i++) {
            Costs c = candidates.get(i);
            if (!within(c, inputSize, maxDropPoints, maxSizeRatio)) {
                continue;
            }
            if (best == null || order.compare(c, candidates.get(best)) < 0) {
                best = i;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Whether a candidate meets both limits. */
    public static boolean within(Costs c, long inputSize, double maxDropPoints, double maxSizeRatio) {
        return c.dropPoints() <= maxDropPoints && c.size() <= maxSizeRatio * inputSize;
    }
}
