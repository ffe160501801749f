package dev.anvil.activities.rollout;

import dev.anvil.workflows.pipeline.spec.Durations;
import dev.anvil.workflows.rollout.CanaryRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a canary spec ({endpoint, model, steps, interval, min_requests, max_extensions, analysis:
 * {max_error_rate, max_p95_latency_ratio}}) from the canary operator's {@code with} or the REST body.
 * Mistakes throw {@link Invalid} naming the field.
 */
public final class CanarySpec {
    public static final List<Integer> DEFAULT_STEPS = List.of(5, 25, 50, 100);

    private CanarySpec() {
    }

    /** The shortest analysis window a rollout may have unless an admin breaks glass, when none is configured. */
    public static final Duration DEFAULT_MIN_INTERVAL = Duration.ofSeconds(30);

    /**
     * @param minInterval the shortest interval that counts as evidence (ANVIL_ROLLOUT_MIN_INTERVAL); a shorter
     *                    one is refused unless the spec breaks glass
     */
    public static CanaryRequest parse(Map<String, Object> with, String rolloutId, Long taskRunId, Duration minInterval) {
        if (with == null) {
            throw Invalid.field(null, "send {\"endpoint\": ..., \"model\": sha256, ...}");
        }
        String endpoint = string(with, "endpoint", true);
        Object model = with.containsKey("model") ? with.get("model") : with.get("artifact");
        String sha = model instanceof Map<?, ?> ref ? String.valueOf(ref.get("sha256")) : (String) model;
        if (sha == null || !sha.matches("[0-9a-f]{64}")) {
            throw Invalid.field("model", "model must be the candidate's artifact (sha256 of an uploaded"
                    + " model or an upstream task's model output), not " + model);
        }
        List<Integer> steps = steps(with.get("steps"));
        Duration interval = Durations.parse(string(with, "interval", false) == null ? "10m" : string(with, "interval", false))
                .orElseThrow(() -> Invalid.field("interval", "interval '" + with.get("interval")
                        + "' is not " + Durations.FORMS));
        if (interval.isZero() || interval.isNegative()) {
            throw Invalid.field("interval", "interval must be positive");
        }
        long minRequests = number(with, "min_requests", 200, 0, Long.MAX_VALUE).longValue();
        long intervalSeconds = interval.toSeconds() == 0 ? 1 : interval.toSeconds();
        if (breakGlass(with).isEmpty()) {
            noEvidence(steps, minRequests, intervalSeconds, minInterval).ifPresent(e -> {
                throw e;
            });
        }
        int maxExtensions = number(with, "max_extensions", 3, 0, 1000).intValue();
        Object analysisValue = with.getOrDefault("analysis", Map.of());
        if (!(analysisValue instanceof Map<?, ?> rawAnalysis)) {
            throw Invalid.field("analysis", "analysis must be {max_error_rate, max_p95_latency_ratio}");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> analysis = (Map<String, Object>) rawAnalysis;
        double maxErrorRate = number(analysis, "max_error_rate", 0.01, 0, 1).doubleValue();
        double maxRatio = number(analysis, "max_p95_latency_ratio", 1.2, 1, 1000).doubleValue();
        return new CanaryRequest(rolloutId, endpoint, sha, steps, intervalSeconds,
                minRequests, maxErrorRate, maxRatio, maxExtensions, taskRunId, string(with, "actor", false));
    }

    /**
     * Why a rollout of this shape gathers no evidence that the candidate serves well, if it does not: all
     * traffic at once, a window judged on no requests, or a window shorter than {@code minInterval}. The one
     * rule that the REST endpoint, the canary operator and the rollout's first activity apply.
     */
    public static java.util.Optional<Invalid> noEvidence(List<Integer> steps, long minRequests, long intervalSeconds,
                                                         Duration minInterval) {
        if (steps.size() == 1) {
            return java.util.Optional.of(Invalid.field("steps", "steps " + steps + " move all traffic to the candidate"
                    + " at once, with no canary evidence; start smaller, e.g. [5, 25, 50, 100] (an admin may break"
                    + " glass with a reason)"));
        }
        if (minRequests < 1) {
            return java.util.Optional.of(Invalid.field("min_requests", "min_requests 0 judges the canary on no traffic"
                    + " at all; ask for at least 1 (an admin may break glass with a reason)"));
        }
        if (intervalSeconds < minInterval.toSeconds()) {
            return java.util.Optional.of(Invalid.field("interval", "interval " + intervalSeconds + "s is below the floor"
                    + " of " + minInterval.toSeconds() + "s (ANVIL_ROLLOUT_MIN_INTERVAL): a shorter window judges the"
                    + " canary on too little evidence; ask for at least " + minInterval.toSeconds() + "s (an admin may"
                    + " break glass with a reason)"));
        }
        return java.util.Optional.empty();
    }

    /**
     * The reason given for breaking glass ({@code "break_glass": {"reason": "..."}}): a rollout that skips
     * the evidence a canary gathers. Only an admin may ask for one, over REST, and it is audited.
     */
    public static java.util.Optional<String> breakGlass(Map<String, Object> with) {
        Object value = with == null ? null : with.get("break_glass");
        if (value == null) {
            return java.util.Optional.empty();
        }
        if (!(value instanceof Map<?, ?> map) || !(map.get("reason") instanceof String reason) || reason.isBlank()) {
            throw Invalid.field("break_glass", "break_glass must be {\"reason\": \"why this rollout may skip the"
                    + " canary's evidence\"}");
        }
        return java.util.Optional.of(reason.strip());
    }

    private static List<Integer> steps(Object value) {
        if (value == null) {
            return DEFAULT_STEPS;
        }
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw Invalid.field("steps", "steps must be a list of weights such as [5, 25, 50, 100]");
        }
        List<Integer> steps = new ArrayList<>();
        int previous = 0;
        for (Object o : list) {
            if (!(o instanceof Integer w) || w < 1 || w > 100 || w <= previous) {
                throw Invalid.field("steps", "steps " + list + " must be increasing whole percentages"
                        + " 1..100; " + o + " is not");
            }
            steps.add(w);
            previous = w;
        }
        if (previous != 100) {
            throw Invalid.field("steps", "steps " + list + " must end at 100, where the candidate takes"
                    + " all traffic before it is promoted");
        }
        return List.copyOf(steps);
    }

    private static String string(Map<String, Object> with, String key, boolean required) {
        Object v = with.get(key);
        if (v == null && required) {
            throw Invalid.field(key, key + " is required");
        }
        if (v != null && !(v instanceof String)) {
            throw Invalid.field(key, key + " must be a string, not " + v);
        }
        return (String) v;
    }

    private static Number number(Map<String, Object> with, String key, Number fallback, double min, double max) {
        Object v = with.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof Number n) || n.doubleValue() < min || n.doubleValue() > max) {
            throw Invalid.field(key, key + " must be a number in " + min + ".." + max + ", not " + v);
        }
        return n;
    }

    /** A canary request that cannot run, with the field at fault (null when it is not one field). */
    public static final class Invalid extends IllegalArgumentException {
        private final String field;

        private Invalid(String field, String message) {
            super(message);
            this.field = field;
        }

        static Invalid field(String field, String message) {
            return new Invalid(field, message);
        }

        public String field() {
            return field;
        }
    }
}
