package dev.anvil.workflows.pipeline.spec;

import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * When a pipeline runs by itself: a five-field cron expression or an Airflow preset. Only the
 * text is stored (so the record crosses Temporal's data converter as one string); it is checked
 * on construction and re-read when asked for fire times, which is cheap.
 */
public record Schedule(String expression) {
    /** Airflow's presets and the cron each stands for; {@code @once} has none. */
    public static final Map<String, String> PRESETS = presets();
    public static final String ONCE = "@once";

    /** @throws IllegalArgumentException naming the problem, for bad cron or an unknown preset */
    public Schedule {
        Objects.requireNonNull(expression, "expression");
        expression = expression.strip();
        if (expression.startsWith("@")) {
            if (!expression.equals(ONCE) && !PRESETS.containsKey(expression)) {
                throw new IllegalArgumentException("unknown preset '" + expression + "'; use one of "
                        + String.join(", ", PRESETS.keySet()) + ", " + ONCE + " or a cron expression like '0 3 * * 1'");
            }
        } else {
            CronExpression.parse(expression);
        }
    }

    /** True for {@code @once}: one run when the pipeline is registered, none after. */
    public boolean firesOnce() {
        return expression.equals(ONCE);
    }

    /** The cron expression this schedule follows; empty for {@code @once}. */
    public Optional<CronExpression> cron() {
        if (firesOnce()) {
            return Optional.empty();
        }
        return Optional.of(CronExpression.parse(PRESETS.getOrDefault(expression, expression)));
    }

    /**
     * The next fire time strictly after {@code after}, evaluated in {@code zone} (Anvil uses UTC).
     * Empty for {@code @once} (whose single run is at {@link #firstFireAt}) and for crons that
     * never match, such as {@code 0 0 30 2 *}.
     */
    public Optional<Instant> nextAfter(Instant after, ZoneId zone) {
        return cron().flatMap(c -> c.nextAfter(after, zone));
    }

    /** The first fire time for a schedule registered at {@code registeredAt}: at once for {@code @once}. */
    public Optional<Instant> firstFireAt(Instant registeredAt, ZoneId zone) {
        return firesOnce() ? Optional.of(registeredAt) : nextAfter(registeredAt, zone);
    }

    private static Map<String, String> presets() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("@hourly", "0 * * * *");
        m.put("@daily", "0 0 * * *");
        m.put("@weekly", "0 0 * * 0");
        m.put("@monthly", "0 0 1 * *");
        m.put("@yearly", "0 0 1 1 *");
        m.put("@annually", "0 0 1 1 *");
        m.put("@midnight", "0 0 * * *");
        return java.util.Collections.unmodifiableMap(m);
    }
}
