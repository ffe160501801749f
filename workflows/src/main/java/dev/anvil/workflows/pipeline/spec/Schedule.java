package dev.anvil.workflows.pipeline.spec;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * When a pipeline runs by itself: a five-field Unix cron expression (minute, hour, day of month,
 * month, day of week, with lists, ranges, steps and JAN-DEC / SUN-SAT names; when both day fields
 * are restricted a day matches if either does, as in Vixie cron and Airflow) or an Airflow preset.
 * cron-utils reads and evaluates the cron. Only the text is stored (so the record crosses
 * Temporal's data converter as one string); it is checked on construction.
 */
public record Schedule(String expression) {
    /** Airflow's presets and the cron each stands for; {@code @once} has none. */
    public static final Map<String, String> PRESETS = presets();
    public static final String ONCE = "@once";

    private static final CronParser UNIX_CRON = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final List<String> FIELDS = List.of("minute", "hour", "day of month", "month", "day of week");
    private static final String HOW = "write five fields (minute hour day-of-month month day-of-week) of numbers,"
            + " JAN-DEC or SUN-SAT, with *, lists (1,2), ranges (1-5) and steps (*/15), e.g. '0 3 * * 1'";

    /** @throws IllegalArgumentException naming the problem (and the cron field), for bad cron or an unknown preset */
    public Schedule {
        Objects.requireNonNull(expression, "expression");
        expression = expression.strip();
        if (expression.startsWith("@")) {
            if (!expression.equals(ONCE) && !PRESETS.containsKey(expression)) {
                throw new IllegalArgumentException("unknown preset '" + expression + "'; use one of "
                        + String.join(", ", PRESETS.keySet()) + ", " + ONCE + " or a cron expression like '0 3 * * 1'");
            }
        } else {
            parse(expression);
        }
    }

    /** True for {@code @once}: one run when the pipeline is registered, none after. */
    public boolean firesOnce() {
        return expression.equals(ONCE);
    }

    /**
     * This schedule's fire times, read once for stepping through many ticks; empty for {@code @once}.
     * Pure computation on the instants it is given (no clock, no zone default), so workflow code may use it.
     */
    public Optional<FireTimes> fireTimes() {
        if (firesOnce()) {
            return Optional.empty();
        }
        return Optional.of(new FireTimes(ExecutionTime.forCron(parse(PRESETS.getOrDefault(expression, expression)))));
    }

    /**
     * The next fire time strictly after {@code after}, evaluated in {@code zone} (Anvil uses UTC).
     * Empty for {@code @once} (whose single run is at {@link #firstFireAt}) and for crons that
     * never match, such as {@code 0 0 30 2 *}.
     */
    public Optional<Instant> nextAfter(Instant after, ZoneId zone) {
        return fireTimes().flatMap(f -> f.nextAfter(after, zone));
    }

    /** The first fire time for a schedule registered at {@code registeredAt}: at once for {@code @once}. */
    public Optional<Instant> firstFireAt(Instant registeredAt, ZoneId zone) {
        return firesOnce() ? Optional.of(registeredAt) : nextAfter(registeredAt, zone);
    }

    /** A parsed cron; the same instant and zone always give the same answer. */
    public static final class FireTimes {
        private final ExecutionTime times;

        private FireTimes(ExecutionTime times) {
            this.times = times;
        }

        /**
         * How many ticks fall in [from, to], counting no further than {@code atMost + 1}: enough to
         * tell a range that fits a cap from one that does not, without stepping through millions of minutes.
         */
        public int countBetween(Instant from, Instant to, int atMost, ZoneId zone) {
            int count = 0;
            Optional<Instant> tick = nextAfter(from.minusMillis(1), zone);
            while (tick.isPresent() && !tick.get().isAfter(to) && count <= atMost) {
                count++;
                tick = nextAfter(tick.get(), zone);
            }
            return count;
        }

        /** The first matching minute strictly after {@code after}, or empty if there is none (e.g. Feb 30). */
        public Optional<Instant> nextAfter(Instant after, ZoneId zone) {
            return times.nextExecution(after.atZone(zone)).map(t -> t.toInstant());
        }
    }

    private static com.cronutils.model.Cron parse(String cron) {
        try {
            return UNIX_CRON.parse(cron).validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cron expression '" + cron + "': " + whereWrong(cron, e) + "; " + HOW, e);
        }
    }

    /** cron-utils says what is wrong but not in which field: find the first field that fails on its own. */
    private static String whereWrong(String cron, IllegalArgumentException whole) {
        String[] parts = cron.split("\\s+");
        for (int i = 0; i < parts.length && parts.length == FIELDS.size(); i++) {
            String[] probe = {"*", "*", "*", "*", "*"};
            probe[i] = parts[i];
            try {
                UNIX_CRON.parse(String.join(" ", probe)).validate();
            } catch (IllegalArgumentException e) {
                return FIELDS.get(i) + " field '" + parts[i] + "': " + reason(e);
            }
        }
        return reason(whole);
    }

    private static String reason(IllegalArgumentException e) {
        return e.getMessage().replaceFirst("^Failed to parse cron expression\\. ", "");
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
